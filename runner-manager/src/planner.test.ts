import { InputError } from "@pifleet/fleet";
import { describe, expect, it } from "vitest";
import { desiredFromFleet } from "./desired.js";
import { nodesToObserve, planRunners } from "./planner.js";
import { testFleet } from "./test-support/fleet-fixture.js";
import type { Desired, ObservedNode, ObservedRunner } from "./types.js";

/** The pure planner's prune and rotate options, on hand-made observations: no GitLab, no nodes. */

const desired: Desired = desiredFromFleet(testFleet());
const want = (key: string) => desired.nodes.flatMap((n) => n.runners).find((r) => r.key === key);

let nextId = 100;
function runner(key: string, extra: Partial<ObservedRunner> = {}): ObservedRunner {
  const description = want(key)?.description ?? `pifleet testfleet/${key}`;
  return { id: nextId++, description, paused: false, status: "online", tagPools: [key.split("/")[1] as string], ...extra };
}

function node(name: string, runners: ObservedRunner[], extra: Partial<ObservedNode> = {}): ObservedNode {
  return {
    name,
    reachable: true,
    configText: "",
    blocks: runners.map((r) => ({ id: r.id, name: r.description.split(" [")[0] as string })),
    pendingRotation: [],
    ...extra,
  };
}

const actionLines = (plan: { actions: { kind: string }[] }) =>
  plan.actions.map((a) => `${a.kind} ${"runnerId" in a ? `#${a.runnerId}` : "runnerIds" in a ? (a.runnerIds as number[]).join(",") : ""}`);

describe("planRunners with prune", () => {
  const pi1Docker = runner("pi1/docker");
  const staleOne = runner("pi2/docker", { status: "stale" });
  const staleAndPaused = runner("pi3/docker", { status: "stale", paused: true });
  const nodeGone = runner("pi9/docker");
  const poolGone = runner("pi3/deploy", { paused: true });
  const lookAlike = runner("pi8/docker", { notOurs: "described like pifleet's, no marker" });
  const otherCluster = { ...runner("x/y"), description: "pifleet elsewhere/pi1/docker" };
  const foreign = { ...runner("x/z"), description: "team laptop" };
  const observed = { runners: [pi1Docker, staleOne, staleAndPaused, nodeGone, poolGone, lookAlike, otherCluster, foreign], nodes: [] };

  it("retires unwanted and stale runners — pause (unless paused), drain, delete — and creates nothing, without reading any node", () => {
    const plan = planRunners(desired, observed, { prune: { stale: true } });
    expect(actionLines(plan)).toEqual([
      `pause #${staleOne.id}`,
      `pause #${nodeGone.id}`,
      // then by node/pool
      `drain #${staleOne.id}`,
      `drain #${poolGone.id}`,
      `drain #${staleAndPaused.id}`,
      `drain #${nodeGone.id}`,
      `delete #${staleOne.id}`,
      `delete #${poolGone.id}`,
      `delete #${staleAndPaused.id}`,
      `delete #${nodeGone.id}`,
    ]);
    const reasons = new Map(plan.actions.flatMap((a) => (a.kind === "delete" ? [[a.runnerId, a.reason] as const] : [])));
    expect(reasons.get(nodeGone.id)).toBe("node pi9 has no runner pool in fleet.yaml any more");
    expect(reasons.get(poolGone.id)).toBe("pool deploy no longer places a runner on pi3");
    expect(reasons.get(staleOne.id)).toBe("stale: no contact with GitLab for more than 7 days");
    expect(plan.skippedNodes).toEqual([]);
    expect(plan.notes).toEqual([{ level: "warn", subject: lookAlike.description, message: "described like pifleet's, no marker" }]);
    expect(nodesToObserve(desired, { prune: { stale: true } })).toEqual([]);
  });

  it("keeps stale runners fleet.yaml still wants when stale is off", () => {
    const plan = planRunners(desired, observed, { prune: { stale: false } });
    const deleted = plan.actions.flatMap((a) => (a.kind === "delete" ? [a.runnerId] : []));
    expect(deleted).toEqual([poolGone.id, nodeGone.id]);
    expect(plan.actions.some((a) => "runnerId" in a && (a.runnerId === staleOne.id || a.runnerId === staleAndPaused.id))).toBe(false);
  });
});

describe("planRunners with rotate", () => {
  // In fleet.yaml's pool order: docker, then deploy.
  const pi1 = [runner("pi1/docker"), runner("pi1/deploy")];
  const pi2 = [runner("pi2/docker"), runner("pi2/deploy")];
  const pi3 = [runner("pi3/docker")];

  it("marks each node's rotation before any token reset, then resets and writes its tokens", () => {
    const observed = { runners: [...pi1, ...pi2, ...pi3], nodes: [node("pi1", pi1), node("pi2", pi2), node("pi3", pi3)] };
    const plan = planRunners(desired, observed, { rotate: { nodes: ["pi2", "pi1"] } });
    const ids = (rs: ObservedRunner[]) => rs.map((r) => r.id);
    expect(actionLines(plan)).toEqual([
      `mark-pending-rotation ${ids(pi1).join(",")}`,
      `mark-pending-rotation ${ids(pi2).join(",")}`,
      ...[pi1[1], pi1[0], pi2[1], pi2[0]].map((r) => `reset-token #${r?.id}`), // by node/pool
      "write-config ",
      "write-config ",
    ]);
    const writes = plan.actions.flatMap((a) => (a.kind === "write-config" ? [a] : []));
    expect(writes.map((w) => [w.node, w.blocks.map((b) => b.runnerId), w.changes])).toEqual([
      ["pi1", ids(pi1), ["tokens rotated"]],
      ["pi2", ids(pi2), ["tokens rotated"]],
    ]);
    expect(plan.skippedNodes).toEqual([]);
    expect(nodesToObserve(desired, { rotate: { nodes: ["pi2", "pi1"] } })).toEqual(["pi2", "pi1"]);
  });

  it("rotates every runner node when none is named, and skips nodes it cannot read or whose runners are not set up", () => {
    const observed = {
      runners: [...pi1, ...pi2, ...pi3],
      nodes: [
        node("pi1", pi1),
        node("pi2", [], { reachable: false, error: "pi2: ssh: connect ECONNREFUSED" }),
        node("pi3", []), // in GitLab, but not in the node's config.toml
      ],
    };
    const plan = planRunners(desired, observed, { rotate: {} });
    expect(plan.actions.filter((a) => a.kind === "mark-pending-rotation").map((a) => a.node)).toEqual(["pi1"]);
    expect(plan.skippedNodes).toEqual([
      { node: "pi2", error: "pi2: ssh: connect ECONNREFUSED; not rotated" },
      { node: "pi3", error: "its runners are not all set up; run `pifleet runners apply` first, then rotate" },
    ]);
    expect(plan.notes.map((n) => n.subject)).toEqual(["pi2", "pi3"]);
  });

  it("refuses a node fleet.yaml gives no runner, before observing anything", () => {
    expect(() => nodesToObserve(desired, { rotate: { nodes: ["pi7"] } })).toThrow(InputError);
    expect(() => planRunners(desired, { runners: [], nodes: [] }, { rotate: { nodes: ["pi7"] } })).toThrow(
      "node pi7 runs no pifleet runner in fleet.yaml",
    );
  });
});
