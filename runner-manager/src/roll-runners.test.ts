import { manualClock } from "@pifleet/io";
import { describe, expect, it } from "vitest";
import { runnerContext } from "./context.js";
import { drainForRoll, nodeRunningThisJob, undrainForRoll } from "./roll-runners.js";
import { MemoryGitlab } from "./test-support/memory-gitlab.js";
import { MemoryNodes } from "./test-support/memory-nodes.js";
import { fleet, reconcile } from "./test-support/memory-reconcile.js";

const waits = { timeoutMs: 60_000, pollMs: 5_000 };

async function setUp() {
  const gitlab = new MemoryGitlab();
  const nodes = new MemoryNodes();
  await reconcile(gitlab, nodes, fleet);
  for (const r of gitlab.runners.values()) r.status = "online";
  const ofNode = (node: string) =>
    [...gitlab.runners.values()].filter((r) => r.description.startsWith(`pifleet ${fleet.cluster}/${node}/`));
  return { gitlab, nodes, ctx: runnerContext(fleet, gitlab, nodes), ofNode };
}

describe("drainForRoll / undrainForRoll", () => {
  it("resumes the runners pifleet paused and leaves a person's pause alone (GitLab says paused, not online)", async () => {
    const { gitlab, nodes, ctx, ofNode } = await setUp();
    const [mine, theirs] = ofNode("pi1");
    if (!mine || !theirs) throw new Error("fixture: pi1 has two runners");
    await gitlab.updateRunner(theirs.id, { paused: true });
    // As GitLab's REST API reports a contacted runner that is paused.
    gitlab.runners.set(theirs.id, { ...(gitlab.runners.get(theirs.id) ?? theirs), status: "paused" });
    await drainForRoll(ctx, "pi1", waits);
    expect(ofNode("pi1").every((r) => r.paused)).toBe(true);
    expect(nodes.log).toContain("stop pi1");
    const { keptPaused } = await undrainForRoll(ctx, "pi1", { ...waits, clock: manualClock() });
    expect(keptPaused).toEqual([theirs.id]);
    expect(gitlab.runners.get(mine.id)?.paused).toBe(false);
    expect(gitlab.runners.get(theirs.id)?.paused).toBe(true);
  });

  it("waits for the node's runners to be online, and says which are not after the timeout", async () => {
    const { gitlab, ctx, ofNode } = await setUp();
    await drainForRoll(ctx, "pi2", waits);
    const [runner] = ofNode("pi2");
    if (!runner) throw new Error("fixture: pi2 has a runner");
    runner.status = "offline";
    const clock = manualClock();
    await expect(undrainForRoll(ctx, "pi2", { ...waits, clock })).rejects.toThrow(`pi2: runner #${runner.id} (offline) not online 60 s`);
    expect(clock.sleeps.length).toBe(12);
    gitlab.runners.set(runner.id, { ...runner, status: "online" });
    await expect(undrainForRoll(ctx, "pi2", { ...waits, clock: manualClock() })).resolves.toEqual({ keptPaused: [] });
  });
});

describe("nodeRunningThisJob", () => {
  it("reads the node from a pifleet runner's description, and nothing from others", () => {
    expect(nodeRunningThisJob({ CI_RUNNER_DESCRIPTION: "pifleet testfleet/pi2/docker [docker]" }, "testfleet")).toBe("pi2");
    expect(nodeRunningThisJob({ CI_RUNNER_DESCRIPTION: "pifleet other/pi2/docker" }, "testfleet")).toBeUndefined();
    expect(nodeRunningThisJob({ CI_RUNNER_DESCRIPTION: "shared runner" }, "testfleet")).toBeUndefined();
    expect(nodeRunningThisJob({}, "testfleet")).toBeUndefined();
  });
});
