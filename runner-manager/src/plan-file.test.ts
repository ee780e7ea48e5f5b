import { chmod, mkdtemp, readFile, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runnerContext } from "./context.js";
import { checkPlanMatchesFleet, readFreshPlan, writePlanFile } from "./plan-file.js";
import { planFleet } from "./reconcile.js";
import { TEST_POOLS, testFleet } from "./test-support/fleet-fixture.js";
import { MemoryGitlab } from "./test-support/memory-gitlab.js";
import { MemoryNodes } from "./test-support/memory-nodes.js";
import { fleet } from "./test-support/memory-reconcile.js";
import type { Action, Plan } from "./types.js";

const tempFile = async () => join(await mkdtemp(join(tmpdir(), "rm-plan-file-")), "plan.json");

/** Rewrites the saved plan's JSON as someone with write access to the file would. */
async function edit(file: string, change: (saved: { actions: Action[] }) => void): Promise<void> {
  const saved = JSON.parse(await readFile(file, "utf8"));
  change(saved);
  await writeFile(file, JSON.stringify(saved));
}

describe("saved runner plans", () => {
  it("are written 0600, also over an existing world-readable file", async () => {
    const made = await planFleet(fleet, new MemoryGitlab(), new MemoryNodes());
    const file = await tempFile();
    await writeFile(file, "old");
    await chmod(file, 0o644);
    await writePlanFile(file, made);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it("refuses (exit 2) a plan whose runner settings were edited after it was made, though its fingerprint still matches", async () => {
    const gitlab = new MemoryGitlab();
    const nodes = new MemoryNodes();
    const ctx = runnerContext(fleet, gitlab, nodes);
    const file = await tempFile();
    await writePlanFile(file, await planFleet(fleet, gitlab, nodes));
    expect((await readFreshPlan(file, ctx)).actions.length).toBeGreaterThan(0);

    await edit(file, (saved) => {
      const create = saved.actions.find((a) => a.kind === "create");
      if (create?.kind !== "create") throw new Error("the fixture's first plan creates runners");
      create.tags = [...create.tags, "production"];
      create.runUntagged = true;
    });
    const err = await readFreshPlan(file, ctx).catch((e: unknown) => e);
    expect(err).toMatchObject({
      exitCode: 2,
      message: expect.stringMatching(
        new RegExp(
          `^the plan in ${file} holds actions that fleet\\.yaml does not give for this fleet \\(create pi\\d/\\w+ is not in it; create pi\\d/\\w+ is missing\\); run \`pifleet runners plan --out ${file}\` again$`,
        ),
      ),
    });
  });

  it("refuses (exit 2) a plan made from another fleet file of the same cluster, saying to plan again", async () => {
    const gitlab = new MemoryGitlab();
    const nodes = new MemoryNodes();
    const other = testFleet({ pools: TEST_POOLS.replace("nodes: [pi1, pi2]", "nodes: [pi1]") });
    const file = await tempFile();
    await writePlanFile(file, await planFleet(other, gitlab, nodes));
    await expect(readFreshPlan(file, runnerContext(fleet, gitlab, nodes))).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringMatching(
        new RegExp(
          `^the plan in ${file} was made against a fleet that has changed since \\(fleet\\.yaml changed.*run \`pifleet runners plan --out ${file}\` again$`,
        ),
      ),
    });
  });
});

describe("checkPlanMatchesFleet", () => {
  const settings = { concurrent: 1, checkInterval: 3, listenAddress: "127.0.0.1:9252", shutdownTimeout: 30 };
  const writeConfig = (restart?: "now" | "after-this-job"): Action => ({
    kind: "write-config",
    node: "pi1",
    settings,
    blocks: [],
    changes: ["listen_address"],
    ...(restart ? { restart } : {}),
  });
  const plan = (...actions: Action[]): Plan => ({ cluster: "c", actions, notes: [], skippedNodes: [] });

  it("ignores where a restart waits (that belongs to the node running the apply), nothing else", () => {
    expect(() => checkPlanMatchesFleet("p.json", plan(writeConfig("now")), plan(writeConfig("after-this-job")))).not.toThrow();
    const edited = { ...writeConfig("now"), settings: { ...settings, concurrent: 64 } };
    expect(() => checkPlanMatchesFleet("p.json", plan(edited), plan(writeConfig("now")))).toThrow(
      "the plan in p.json holds actions that fleet.yaml does not give for this fleet (write-config pi1 is not in it; write-config pi1 is missing)",
    );
    expect(() => checkPlanMatchesFleet("p.json", plan(writeConfig(), writeConfig()), plan(writeConfig()))).toThrow(
      /\(the same actions in another order, or one repeated\)/,
    );
  });
});
