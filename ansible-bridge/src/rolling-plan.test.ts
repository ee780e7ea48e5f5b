import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { type NodeObservation, planRoll, ROLL_MARKERS, type RollInput } from "./rolling-plan.js";
import { threeNodeFleet } from "./test-support/fleets.js";

const fleet = threeNodeFleet();
const seen = (node: string, o: Partial<NodeObservation> = {}): NodeObservation => ({
  node,
  rebootRequired: false,
  dockerRestartRequired: false,
  redisRestartRequired: false,
  upgradable: [],
  ...o,
});
const input = (o: Partial<RollInput> = {}): RollInput => ({
  fleet,
  observations: ["pi1", "pi2", "pi3"].map((n) => seen(n, { rebootRequired: true })),
  holdings: [],
  holders: [],
  runnerNodes: ["pi1", "pi2", "pi3"],
  upgrade: false,
  ...o,
});

describe("planRoll", () => {
  it("rolls workers before the manager, each node drained, acted on, waited for and undrained in that order", () => {
    const plan = planRoll(input());
    expect(plan.nodes.map((n) => n.node)).toEqual(["pi2", "pi3", "pi1"]);
    expect(plan.nodes[0]?.steps.map((s) => s.kind)).toEqual([
      "drain-swarm",
      "drain-runners",
      "act",
      "wait-healthy",
      "undrain-swarm",
      "undrain-runners",
    ]);
  });

  it("hands away what a node holds before draining it, lets it hold it again at the end, and rolls holders last", () => {
    const plan = planRoll(
      input({ holdings: [{ what: "redis-primary", node: "pi2" }], holders: [{ what: "redis-primary", nodes: ["pi2", "pi3"] }] }),
    );
    expect(plan.nodes.map((n) => n.node)).toEqual(["pi3", "pi1", "pi2"]);
    const pi2 = plan.nodes.at(-1)?.steps.map((s) => (s.kind === "hand-off" ? `hand-off ${s.what}` : s.kind));
    expect(pi2?.slice(0, 4)).toEqual(["hand-off redis-primary", "drain-swarm", "drain-runners", "act"]);
    expect(plan.nodes.at(-1)?.steps.at(-1)).toEqual({ kind: "release", node: "pi2", what: "redis-primary" });
    // pi3 may hold it by its turn (pi2's hand-off can move it there): its turn hands it away too; pi1 never holds it.
    expect(plan.nodes[0]?.steps.filter((s) => s.kind === "hand-off")).toEqual([{ kind: "hand-off", node: "pi3", what: "redis-primary" }]);
    expect(plan.nodes[1]?.steps.some((s) => s.kind === "hand-off")).toBe(false);
  });

  it("picks the action from the markers: a reboot covers an engine restart, an engine restart names a Redis one too", () => {
    const plan = planRoll(
      input({
        observations: [
          seen("pi1", { dockerRestartRequired: true, redisRestartRequired: true }),
          seen("pi2", { rebootRequired: true, dockerRestartRequired: true }),
          seen("pi3", { redisRestartRequired: true }),
        ],
      }),
    );
    expect(plan.nodes.map((n) => [n.node, n.action])).toEqual([
      ["pi2", "reboot"],
      ["pi3", "restart-redis"],
      ["pi1", "restart-docker"],
    ]);
    expect(plan.nodes[1]?.reasons).toEqual(["/var/run/pifleet-redis-restart-required present"]);
    expect(planRoll(input({ observations: [seen("pi1"), seen("pi2"), seen("pi3")] })).unchanged.sort()).toEqual(["pi1", "pi2", "pi3"]);
    expect(plan.nodes[0]?.reasons).toEqual(["/var/run/reboot-required present", "/var/run/pifleet-docker-restart-required present"]);
  });

  it("upgrades and reboots nodes with packages to upgrade only when upgrading", () => {
    const observations = [seen("pi1"), seen("pi2", { upgradable: ["libc6", "openssl"] }), seen("pi3")];
    expect(planRoll(input({ observations })).nodes).toEqual([]);
    const plan = planRoll(input({ observations, upgrade: true }));
    expect(plan.nodes.map((n) => [n.node, n.action, n.reasons])).toEqual([["pi2", "upgrade-and-reboot", ["2 packages to upgrade"]]]);
    expect(plan.nodes[0]?.steps.find((s) => s.kind === "act")).toEqual({
      kind: "act",
      node: "pi2",
      action: "upgrade-and-reboot",
      upgrade: true,
    });
  });

  it("skips the node running the driving job, saying why, and rolls the others", () => {
    const plan = planRoll(input({ selfNode: "pi3" }));
    expect(plan.nodes.map((n) => n.node)).toEqual(["pi2", "pi1"]);
    expect(plan.skipped).toEqual([{ node: "pi3", reason: expect.stringContaining("runs the job driving this roll") }]);
  });

  it("does not drain runners on a node without any", () => {
    const plan = planRoll(input({ runnerNodes: ["pi1"] }));
    expect(plan.nodes[0]?.steps.map((s) => s.kind)).not.toContain("drain-runners");
  });
});

describe("ROLL_MARKERS", () => {
  // The same paths live in YAML: the roles write them, rolling.yml reads and removes them.
  const ansible = (path: string) => readFileSync(new URL(`../ansible/${path}`, import.meta.url), "utf8");
  it.each([
    ["reboot", "roles/raspberrypi/defaults/main.yml"],
    ["dockerRestart", "roles/docker/defaults/main.yml"],
    ["redisRestart", "roles/redis/defaults/main.yml"],
  ] as const)("%s is the path its role writes and rolling.yml acts on", (marker, defaults) => {
    expect(ansible(defaults)).toContain(ROLL_MARKERS[marker]);
    expect(ansible("rolling.yml")).toContain(ROLL_MARKERS[marker]);
  });
});
