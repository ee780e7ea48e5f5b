import { describe, expect, it } from "vitest";
import { planRoll } from "./rolling-plan.js";
import { renderRollPlanText, renderRollReportText } from "./rolling-render.js";
import { threeNodeFleet } from "./test-support/fleets.js";

describe("renderRollPlanText", () => {
  it("lists the nodes in order with their steps, the skipped node and why, and the untouched ones", () => {
    const plan = planRoll({
      fleet: threeNodeFleet(),
      observations: [
        { node: "pi1", rebootRequired: false, dockerRestartRequired: false, redisRestartRequired: false, upgradable: [] },
        { node: "pi2", rebootRequired: true, dockerRestartRequired: false, redisRestartRequired: false, upgradable: [] },
        { node: "pi3", rebootRequired: false, dockerRestartRequired: true, redisRestartRequired: false, upgradable: [] },
      ],
      holdings: [],
      holders: [],
      runnerNodes: ["pi2"],
      selfNode: "pi3",
      upgrade: false,
    });
    expect(renderRollPlanText(plan)).toBe(
      [
        "Roll 1 node, one at a time, in this order:",
        "  1. pi2: reboot (/var/run/reboot-required present)",
        "     drain swarm → drain runners → reboot → wait healthy → undrain swarm → undrain runners",
        "  skipped pi3: runs the job driving this roll (/var/run/pifleet-docker-restart-required present); rerun from another node's runner or from a laptop",
        "  nothing to do on pi1",
      ].join("\n"),
    );
  });
});

describe("renderRollReportText", () => {
  it("says how long each node took and where the roll stopped", () => {
    const text = renderRollReportText({
      rolled: ["pi2"],
      failed: { node: "pi3", step: "wait-healthy", message: "sshd did not answer" },
      notReached: ["pi1"],
      startedAt: 0,
      durationMs: 95_000,
      timeline: [
        { at: 0, node: "pi2", step: "drain-swarm", phase: "start" },
        { at: 60_000, node: "pi2", step: "undrain-runners", phase: "done" },
      ],
    });
    expect(text).toBe("Rolled 1 node in 95 s.\n  pi2: rolled in 60 s\n  pi3: wait-healthy failed: sshd did not answer\n  not reached: pi1");
  });
});
