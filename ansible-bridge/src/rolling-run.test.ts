import { manualClock } from "@pifleet/io";
import { describe, expect, it } from "vitest";
import { type NodeObservation, planRoll } from "./rolling-plan.js";
import { maxDrainedAtOnce, type RollActions, runRoll } from "./rolling-run.js";
import { threeNodeFleet } from "./test-support/fleets.js";

const fleet = threeNodeFleet();
const needsReboot = (node: string): NodeObservation => ({
  node,
  rebootRequired: true,
  dockerRestartRequired: false,
  redisRestartRequired: false,
  upgradable: [],
});
const plan = planRoll({
  fleet,
  observations: ["pi1", "pi2", "pi3"].map(needsReboot),
  holdings: [],
  holders: [],
  runnerNodes: ["pi1", "pi2", "pi3"],
  upgrade: false,
});

/** Fake actions that log each call; availability per node, and an optional step that fails. */
function fakeActions(availability: Record<string, string> = {}, failOn?: string): { actions: RollActions; calls: string[] } {
  const calls: string[] = [];
  const call = async (what: string) => {
    calls.push(what);
    if (what === failOn) throw new Error(`${what} broke`);
  };
  const actions: RollActions = {
    drainSwarm: async (n) => {
      await call(`drain-swarm ${n}`);
      return availability[n] ?? "active";
    },
    undrainSwarm: (n, to) => call(`undrain-swarm ${n}${to === "active" ? "" : ` ${to}`}`),
    drainRunners: (n) => call(`drain-runners ${n}`),
    undrainRunners: (n) => call(`undrain-runners ${n}`),
    handOff: async (n, w) => {
      await call(`hand-off ${n} ${w}`);
      // Only the holder moves anything; a node not holding it has nothing to say.
      return n === "pi1" && w === "lb-vip" ? "to the peer" : undefined;
    },
    release: (n, w) => call(`release ${n} ${w}`),
    act: (n, a) => call(`act ${n} ${a}`),
    waitHealthy: (n) => call(`wait-healthy ${n}`),
  };
  return { actions, calls };
}

describe("runRoll", () => {
  it("finishes one node before starting the next", async () => {
    const { actions, calls } = fakeActions();
    const report = await runRoll(plan, actions, { clock: manualClock(0) });
    expect(report.rolled).toEqual(["pi2", "pi3", "pi1"]);
    expect(calls.slice(0, 7)).toEqual([
      "drain-swarm pi2",
      "drain-runners pi2",
      "act pi2 reboot",
      "wait-healthy pi2",
      "undrain-swarm pi2",
      "undrain-runners pi2",
      "drain-swarm pi3",
    ]);
    expect(maxDrainedAtOnce(report.timeline)).toBe(1);
  });

  it("puts what a hand-off says about the move on the timeline, and the roll's start on the report", async () => {
    const withVip = planRoll({
      fleet,
      observations: ["pi1", "pi2"].map(needsReboot),
      holdings: [{ what: "lb-vip", node: "pi1" }],
      holders: [{ what: "lb-vip", nodes: ["pi1", "pi2"] }],
      runnerNodes: [],
      upgrade: false,
    });
    const report = await runRoll(withVip, fakeActions().actions, { clock: manualClock(5000) });
    expect(report.startedAt).toBe(5000);
    expect(report.timeline.filter((e) => e.step === "hand-off" && e.phase === "done").map((e) => `${e.node} ${e.detail}`)).toEqual([
      "pi2 lb-vip",
      "pi1 lb-vip: to the peer",
    ]);
  });

  it("sets Swarm availability back only where pifleet changed it, to what a person had set", async () => {
    const { actions, calls } = fakeActions({ pi3: "drain", pi1: "pause" });
    const report = await runRoll(plan, actions);
    expect(calls).toContain("undrain-swarm pi2");
    expect(calls.filter((c) => c.startsWith("undrain-swarm pi3"))).toEqual([]);
    expect(report.timeline.filter((e) => e.node === "pi3" && e.phase === "kept").map((e) => e.step)).toEqual([
      "drain-swarm",
      "undrain-swarm",
    ]);
    // A paused node's tasks are moved off for the reboot; it goes back to pause, never to active.
    expect(calls).toContain("undrain-swarm pi1 pause");
    expect(report.timeline.filter((e) => e.node === "pi1" && e.phase === "kept")).toEqual([]);
  });

  it("stops at the first failed step and touches no later node", async () => {
    const { actions, calls } = fakeActions({}, "wait-healthy pi3");
    const report = await runRoll(plan, actions);
    expect(report.rolled).toEqual(["pi2"]);
    expect(report.failed).toEqual({ node: "pi3", step: "wait-healthy", message: "wait-healthy pi3 broke" });
    expect(report.notReached).toEqual(["pi1"]);
    expect(calls.some((c) => c.endsWith("pi1"))).toBe(false);
    // The failed node stays drained for a person to look at.
    expect(calls).not.toContain("undrain-swarm pi3");
  });
});

describe("maxDrainedAtOnce", () => {
  it("counts overlapping drains", () => {
    const at = 0;
    expect(
      maxDrainedAtOnce([
        { at, node: "a", step: "drain-swarm", phase: "start" },
        { at, node: "b", step: "drain-swarm", phase: "start" },
        { at, node: "a", step: "undrain-swarm", phase: "done" },
      ]),
    ).toBe(2);
  });
});
