import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveTopology } from "@pifleet/fleet";
import { describe, expect, it } from "vitest";
import { applyPlan } from "./apply.js";
import { connectRunners } from "./connect.js";
import { runnerContext } from "./context.js";
import { drainNode, undrainNode } from "./drain.js";
import { NodeError } from "./node-access.js";
import { readFreshPlan, readPlanFile, writePlanFile } from "./plan-file.js";
import { planFleet } from "./reconcile.js";
import { rotateTokens } from "./rotate.js";
import { fleetRunnerStatus } from "./status.js";
import { crashAfter, InjectedCrash } from "./test-support/crash.js";
import { TEST_POOLS, testFleet } from "./test-support/fleet-fixture.js";
import { MemoryGitlab } from "./test-support/memory-gitlab.js";
import { MemoryNodes } from "./test-support/memory-nodes.js";
import { drain, expectConverged, fleet, reconcile } from "./test-support/memory-reconcile.js";

describe("drain safety", () => {
  it("refuses to drain the last node serving a tag unless forced, and then records its own pause for undrain", async () => {
    const lonely = testFleet({
      pools:
        "\n  - { name: docker, tags: [docker], select: { roles: [runner] } }\n  - { name: deploy, executor: shell, tags: [deploy], nodes: [pi1] }",
    });
    const gitlab = new MemoryGitlab();
    const nodes = new MemoryNodes();
    await reconcile(gitlab, nodes, lonely);
    const ctx = runnerContext(lonely, gitlab, nodes);
    await expect(drainNode(ctx, "pi1", { ...drain })).rejects.toThrow("draining pi1 would leave tag deploy with no active runner");
    expect(nodes.log).not.toContain("stop pi1");
    await drainNode(ctx, "pi1", { ...drain, force: true });
    expect(nodes.log).toContain("stop pi1");
    const undone = await undrainNode(ctx, "pi1");
    expect(undone.resumed.map((r) => r.key).sort()).toEqual(["pi1/deploy", "pi1/docker"]);
    expect([...gitlab.runners.values()].every((r) => !r.paused)).toBe(true);
  });
});

describe("rotate", () => {
  it("converges with live tokens after a crash following any call of a rotation", async () => {
    const setUp = async () => {
      const gitlab = new MemoryGitlab();
      const nodes = new MemoryNodes();
      await reconcile(gitlab, nodes);
      return { gitlab, nodes };
    };
    const probe = await setUp();
    const counting = crashAfter(Number.POSITIVE_INFINITY, probe.gitlab, probe.nodes);
    await rotateTokens(runnerContext(fleet, counting.api, counting.nodes), undefined, { drain });
    const calls = counting.calls();
    expect(calls.indexOf("markPendingRotation")).toBeLessThan(calls.indexOf("resetToken"));
    for (let n = 1; n <= calls.length; n++) {
      const { gitlab, nodes } = await setUp();
      const seam = crashAfter(n, gitlab, nodes);
      await expect(rotateTokens(runnerContext(fleet, seam.api, seam.nodes), undefined, { drain })).rejects.toBeInstanceOf(InjectedCrash);
      await reconcile(gitlab, nodes);
      expectConverged(gitlab, nodes);
      expect((await planFleet(fleet, gitlab, nodes)).plan.actions, `after a crash at call ${n} (${calls[n - 1]})`).toEqual([]);
    }
  });

  it("resets no token of a node that could not record the rotation, and rotates the others", async () => {
    class NoMarkOnPi2 extends MemoryNodes {
      override async markPendingRotation(node: string, runnerIds: number[]): Promise<void> {
        if (node === "pi2") throw new NodeError(node, "sudo: a password is required");
        await super.markPendingRotation(node, runnerIds);
      }
    }
    const gitlab = new MemoryGitlab();
    const nodes = new NoMarkOnPi2();
    await reconcile(gitlab, nodes);
    const pi2Before = nodes.files.get("pi2");
    gitlab.calls.length = 0;
    const report = await rotateTokens(runnerContext(fleet, gitlab, nodes), undefined, { drain });
    expect(report.rotated.map((r) => r.node)).toEqual(["pi1", "pi3"]);
    expect(report.failures).toEqual([{ subject: "pi2", message: "pi2: sudo: a password is required; not rotated" }]);
    expect(gitlab.writes().filter((c) => c.startsWith("reset"))).toHaveLength(3);
    expect(nodes.files.get("pi2")).toBe(pi2Before);
    expectConverged(gitlab, nodes);
  });
});

describe("status", () => {
  it("shows per node reachability and service, per runner id, status, pause, tags, running jobs and limit", async () => {
    const gitlab = new MemoryGitlab();
    const nodes = new MemoryNodes();
    await reconcile(gitlab, nodes);
    const byName = (d: string) => [...gitlab.runners.values()].find((r) => r.description.startsWith(`${d} [`));
    const pi1 = byName("pifleet testfleet/pi1/docker");
    gitlab.jobs.set(pi1?.id as number, [1, 2]);
    await gitlab.updateRunner(byName("pifleet testfleet/pi2/docker")?.id as number, { paused: true });
    nodes.active.set("pi2", false);
    nodes.unreachable.add("pi3");
    const s = await fleetRunnerStatus(runnerContext(fleet, gitlab, nodes));
    const pi1Row = s.nodes.find((n) => n.node === "pi1");
    expect(pi1Row).toMatchObject({ reachable: true, service: "active", concurrent: 3 });
    expect(pi1Row?.runners[0]).toEqual({
      key: "pi1/docker",
      pool: "docker",
      id: pi1?.id,
      status: "never_contacted",
      paused: false,
      tags: ["arm64", "docker"],
      runningJobs: 2,
      limit: 2,
      inConfig: true,
    });
    expect(s.nodes.find((n) => n.node === "pi2")).toMatchObject({ service: "inactive" });
    expect(s.nodes.find((n) => n.node === "pi2")?.runners[0]).toMatchObject({ paused: true, pausedBy: "person" });
    expect(s.nodes.find((n) => n.node === "pi3")).toMatchObject({
      reachable: false,
      error: "pi3: ssh: connect ECONNREFUSED (node unreachable)",
    });
    expect(s.notes).toContainEqual({
      level: "warn",
      subject: "pi3",
      message: "unreachable: pi3: ssh: connect ECONNREFUSED (node unreachable)",
    });
    expect(s.strays).toEqual([]);
  });

  it("shows a failed service check as unknown with the node's error, never as inactive", async () => {
    class CheckFailsOnPi1 extends MemoryNodes {
      override async runnerActive(node: string): Promise<boolean> {
        if (node === "pi1") throw new NodeError(node, "sudo: a password is required");
        return super.runnerActive(node);
      }
    }
    const gitlab = new MemoryGitlab();
    const nodes = new CheckFailsOnPi1();
    await reconcile(gitlab, nodes);
    const s = await fleetRunnerStatus(runnerContext(fleet, gitlab, nodes));
    expect(s.nodes.find((n) => n.node === "pi1")).toMatchObject({
      reachable: true,
      service: "unknown",
      serviceError: "pi1: sudo: a password is required",
    });
    expect(s.notes).toContainEqual({
      level: "warn",
      subject: "pi1",
      message: "gitlab-runner service state unknown: pi1: sudo: a password is required",
    });
  });
});

describe("plan files", () => {
  const tempFile = async () => join(await mkdtemp(join(tmpdir(), "rm-plan-")), "plan.json");

  it("save and load a plan for `apply FILE`, refusing another cluster's plan; a fresh plan is applied", async () => {
    const gitlab = new MemoryGitlab();
    const nodes = new MemoryNodes();
    const made = await planFleet(fleet, gitlab, nodes);
    const file = await tempFile();
    await writePlanFile(file, made);
    expect((await readPlanFile(file, "testfleet")).plan).toEqual(made.plan);
    await expect(readPlanFile(file, "other")).rejects.toThrow("plan is for cluster testfleet, but fleet.yaml describes other");
    await applyPlan(await readFreshPlan(file, runnerContext(fleet, gitlab, nodes)), gitlab, nodes, { drain });
    expectConverged(gitlab, nodes);
  });

  it("refuses (exit 2) a plan whose fleet changed since, saying what changed; a token gitlab-runner rotated itself does not count", async () => {
    const gitlab = new MemoryGitlab();
    const nodes = new MemoryNodes();
    await reconcile(gitlab, nodes);
    // A plan with work in it: the deploy pool leaves pi2.
    const changed = testFleet({ pools: TEST_POOLS.replace("nodes: [pi1, pi2]", "nodes: [pi1]") });
    const ctx = runnerContext(changed, gitlab, nodes);
    const file = await tempFile();
    await writePlanFile(file, await planFleet(changed, gitlab, nodes));

    // gitlab-runner rewrote its own token: the plan still fits.
    const pi1 = nodes.files.get("pi1") as string;
    const token = /token = "([^"]+)"/.exec(pi1)?.[1] as string;
    nodes.files.set("pi1", pi1.replace(token, "glrt-rotatedbytherunner000"));
    // ... through GitLab's POST /runners/reset_authentication_token, so GitLab has the new one too.
    for (const r of gitlab.runners.values()) if (r.token === token) r.token = "glrt-rotatedbytherunner000";
    expect((await readFreshPlan(file, ctx)).actions.length).toBeGreaterThan(0);

    const pi2Docker = [...gitlab.runners.values()].find((r) => r.description.startsWith("pifleet testfleet/pi2/docker ["));
    await gitlab.updateRunner(pi2Docker?.id as number, { paused: true });
    nodes.files.set("pi3", `${nodes.files.get("pi3")}\n[session_server]\nlisten_address = "[::]:8093"\n`);
    const err = await readFreshPlan(file, ctx).catch((e: unknown) => e);
    expect(err).toMatchObject({
      exitCode: 2,
      message:
        `the plan in ${file} was made against a fleet that has changed since (runner #${pi2Docker?.id} (pi2/docker) was paused in GitLab; ` +
        `pi3's config.toml changed); run \`pifleet runners plan --out ${file}\` again`,
    });
    expect(JSON.stringify(err)).not.toMatch(/glrt-/);
    await expect(readFreshPlan(file, runnerContext(fleet, gitlab, nodes))).rejects.toThrow(/changed since \(fleet\.yaml changed; runner #/);
    expect(await readFile(file, "utf8")).not.toMatch(/glrt-|token =/);
  });

  it("refuses a version-1 plan file with what to do", async () => {
    const file = await tempFile();
    await writeFile(file, JSON.stringify({ version: 1, cluster: "testfleet", actions: [], notes: [], skippedNodes: [] }));
    await expect(readPlanFile(file, "testfleet")).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringContaining("a version-1 runner plan, saved without a fingerprint"),
      hint: "Make one with `pifleet runners plan --out FILE`.",
    });
  });
});

describe("connectRunners", () => {
  it("needs the token variable fleet.yaml names (exit 3) and never echoes it", () => {
    const loaded = { fleet, topology: resolveTopology(fleet) };
    expect(() => connectRunners(loaded, { env: {} })).toThrow(
      expect.objectContaining({ exitCode: 3, message: expect.stringContaining("GITLAB_TOKEN is not set") }),
    );
    const ctx = connectRunners(loaded, { env: { GITLAB_TOKEN: "glpat-verysecretvalue123" } });
    expect(JSON.stringify(ctx.api)).not.toContain("verysecret");
  });
});
