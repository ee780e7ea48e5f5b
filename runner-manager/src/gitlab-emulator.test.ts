import { GitlabHttpError, manualClock } from "@pifleet/io";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { applyPlan } from "./apply.js";
import { parseConfig } from "./config-toml.js";
import { explainRunnerError } from "./connect.js";
import { runnerContext } from "./context.js";
import { drainNode } from "./drain.js";
import type { GitlabApi } from "./gitlab-api.js";
import type { NodeAccess } from "./node-access.js";
import { prune } from "./prune.js";
import { planFleet } from "./reconcile.js";
import { rotateTokens } from "./rotate.js";
import { crashAfter, InjectedCrash } from "./test-support/crash.js";
import { startTestGitlab, type TestGitlab } from "./test-support/emulator.js";
import { testFleet } from "./test-support/fleet-fixture.js";
import { MemoryNodes } from "./test-support/memory-nodes.js";

/** The real client (gitbeaker + pifleet's transport) against the sim's GitLab API emulator; nodes in memory. */

const fleet = testFleet();
const noWait = { timeoutMs: 5_000, pollMs: 10 };
let gl: TestGitlab;

beforeEach(async () => {
  gl = await startTestGitlab();
});
afterEach(async () => {
  await gl.emu.close();
});

async function reconcile(api: GitlabApi, nodes: NodeAccess) {
  const { plan } = await planFleet(fleet, api, nodes);
  return { plan, report: await applyPlan(plan, api, nodes, { drain: noWait }) };
}

type Listed = { id: number; description: string; paused: boolean };
const listAll = async () => (await gl.rest<Listed[]>("GET", `/projects/${gl.emu.projectId}/runners?per_page=100`)).body;

async function expectConverged(nodes: MemoryNodes) {
  const owned = (await listAll()).filter((r) => r.description.startsWith("pifleet testfleet/"));
  expect(owned.map((r) => r.description.split(" [")[0]).sort()).toEqual([
    "pifleet testfleet/pi1/deploy",
    "pifleet testfleet/pi1/docker",
    "pifleet testfleet/pi2/deploy",
    "pifleet testfleet/pi2/docker",
    "pifleet testfleet/pi3/docker",
  ]);
  for (const node of ["pi1", "pi2", "pi3"]) {
    const doc = parseConfig(nodes.files.get(node) ?? null, node) as { runners?: { id: number; token: string; name: string }[] };
    for (const b of doc.runners ?? []) {
      const verified = await gl.rest<{ id: number }>("POST", "/runners/verify", { token: b.token, system_id: `s_${node}000000000` });
      expect(verified.status, `${node}: ${b.name} holds a token GitLab accepts`).toBe(200);
      expect(verified.body.id).toBe(b.id);
    }
    expect(doc.runners?.length).toBe(node === "pi3" ? 1 : 2);
  }
}

describe("reconcile against the GitLab API emulator", () => {
  it("plan → apply → plan is empty, and the no-op reads only list pages, verifies each node's tokens, and writes nothing", async () => {
    const nodes = new MemoryNodes();
    const first = await reconcile(gl.api, nodes);
    expect(first.report.failures).toEqual([]);
    await expectConverged(nodes);
    await gl.control("DELETE", "/requests");
    const again = await planFleet(fleet, gl.api, nodes);
    expect(again.plan.actions).toEqual([]);
    const log = await gl.requests();
    // Lists: one per 100 runners and one per pool tag set; verify: one per token in a config.toml (5 runners).
    expect(log.byEndpoint).toEqual({ [`GET /projects/${gl.emu.projectId}/runners`]: 3, "POST /runners/verify": 5 });
  });

  it("converges after a crash following any API call or node write", async () => {
    const probe = crashAfter(Number.POSITIVE_INFINITY, gl.api, new MemoryNodes());
    await reconcile(probe.api, probe.nodes);
    const total = probe.calls().length;
    await gl.emu.close();
    for (let n = 1; n <= total; n++) {
      gl = await startTestGitlab();
      const nodes = new MemoryNodes();
      const seam = crashAfter(n, gl.api, nodes);
      await expect(reconcile(seam.api, seam.nodes)).rejects.toBeInstanceOf(InjectedCrash);
      await reconcile(gl.api, nodes);
      await expectConverged(nodes);
      expect((await planFleet(fleet, gl.api, nodes)).plan.actions, `after a crash at call ${n}: ${seam.calls().at(-1)}`).toEqual([]);
      if (n < total) await gl.emu.close();
    }
  });

  it("keeps a runner a person paused through the API", async () => {
    const nodes = new MemoryNodes();
    await reconcile(gl.api, nodes);
    const target = (await listAll()).find((r) => r.description.startsWith("pifleet testfleet/pi3/docker [")) as Listed;
    expect((await gl.rest("PUT", `/runners/${target.id}`, { paused: true })).status).toBe(200);
    const { plan } = await reconcile(gl.api, nodes);
    expect(plan.actions).toEqual([]);
    expect(plan.notes.map((n) => n.message)).toContain(`runner #${target.id} was paused by a person in the GitLab UI — kept paused`);
    expect((await listAll()).find((r) => r.id === target.id)?.paused).toBe(true);
  });

  it("skips only a runner deleted in GitLab between plan and apply (its GET answers 404); the rest is applied, the next apply converges", async () => {
    const nodes = new MemoryNodes();
    await reconcile(gl.api, nodes);
    nodes.files.delete("pi2"); // both pi2 runners get their tokens reset and pi2's config.toml rewritten
    const { plan } = await planFleet(fleet, gl.api, nodes);
    const resets = plan.actions.filter((a) => a.kind === "reset-token");
    expect(resets.map((a) => a.key)).toEqual(["pi2/deploy", "pi2/docker"]);
    const gone = (resets[0] as { runnerId: number }).runnerId;
    expect((await gl.rest("DELETE", `/runners/${gone}`)).status).toBe(204);
    const report = await applyPlan(plan, gl.api, nodes, { drain: noWait });
    expect(report.failures.map((f) => f.subject)).toEqual(["pi2/deploy"]);
    expect(report.failures[0]?.message).toMatch(new RegExp(`^runner #${gone} no longer exists in GitLab; left out of pi2's config.toml`));
    expect(report.applied).toContain("write-config pi2");
    await reconcile(gl.api, nodes);
    await expectConverged(nodes);
  });
});

describe("fleet.yaml changes", () => {
  it("sets changed tags, protection and untagged jobs through PUT /runners/:id", async () => {
    const nodes = new MemoryNodes();
    await reconcile(gl.api, nodes);
    const changed = testFleet({
      pools: `
  - { name: docker, tags: [docker], runUntagged: true, select: { roles: [runner] } }
  - { name: deploy, executor: shell, tags: [deploy, pifleet], nodes: [pi1, pi2] }`,
    });
    const { plan } = await planFleet(changed, gl.api, nodes);
    expect(plan.actions.filter((a) => a.kind === "update")).toHaveLength(5);
    await applyPlan(plan, gl.api, nodes, { drain: noWait });
    const deploy = (await listAll()).find((r) => r.description.startsWith("pifleet testfleet/pi2/deploy [")) as Listed;
    const detail = (await gl.rest<Record<string, unknown>>("GET", `/runners/${deploy.id}`)).body;
    expect(detail).toMatchObject({
      description: "pifleet testfleet/pi2/deploy [deploy,pifleet]",
      tag_list: ["deploy", "pifleet"],
      access_level: "not_protected",
      run_untagged: false,
    });
    const docker = (await listAll()).find((r) => r.description.startsWith("pifleet testfleet/pi3/docker [")) as Listed;
    expect((await gl.rest<Record<string, unknown>>("GET", `/runners/${docker.id}`)).body).toMatchObject({
      tag_list: ["docker"],
      run_untagged: true,
    });
    expect((await planFleet(changed, gl.api, nodes)).plan.actions).toEqual([]);
  });
});

describe("operations against the emulator", () => {
  it("rotate changes the token in GitLab and on the node", async () => {
    const nodes = new MemoryNodes();
    await reconcile(gl.api, nodes);
    const before = parseConfig(nodes.files.get("pi2") ?? null, "pi2") as { runners: { id: number; token: string }[] };
    const report = await rotateTokens(runnerContext(fleet, gl.api, nodes), ["pi2"], { drain: noWait });
    expect(report.rotated).toEqual([{ node: "pi2", runners: before.runners.map((r) => r.id) }]);
    const after = parseConfig(nodes.files.get("pi2") ?? null, "pi2") as { runners: { id: number; token: string }[] };
    for (const [i, b] of before.runners.entries()) {
      expect(after.runners[i]?.token).not.toBe(b.token);
      expect((await gl.rest("POST", "/runners/verify", { token: b.token, system_id: "s_000000000001" })).status).toBe(403);
    }
    expect(nodes.pending.has("pi2")).toBe(false);
    await expectConverged(nodes);
  });

  it("an interrupted rotation is finished by the next apply", async () => {
    const nodes = new MemoryNodes();
    await reconcile(gl.api, nodes);
    // A first rotation, run through the seam without a crash, tells which call is the first token reset.
    const probe = crashAfter(Number.POSITIVE_INFINITY, gl.api, nodes);
    await rotateTokens(runnerContext(fleet, probe.api, probe.nodes), ["pi1"], { drain: noWait });
    expect(probe.calls().indexOf("markPendingRotation")).toBeLessThan(probe.calls().indexOf("resetToken"));
    const seam = crashAfter(probe.calls().indexOf("resetToken") + 1, gl.api, nodes);
    await expect(rotateTokens(runnerContext(fleet, seam.api, seam.nodes), ["pi1"], { drain: noWait })).rejects.toBeInstanceOf(
      InjectedCrash,
    );
    const { plan } = await reconcile(gl.api, nodes);
    expect(plan.actions.map((a) => a.kind)).toEqual(["reset-token", "reset-token", "write-config"]);
    await expectConverged(nodes);
  });

  it("prune removes only pifleet's runners: stale ones and those fleet.yaml no longer wants; a look-alike is a warning", async () => {
    const nodes = new MemoryNodes();
    await reconcile(gl.api, nodes);
    const create = async (description: string, note: string) =>
      (
        await gl.rest<{ id: number }>("POST", "/user/runners", {
          runner_type: "project_type",
          project_id: gl.emu.projectId,
          description,
          maintenance_note: note,
        })
      ).body.id;
    const foreign = await create("team laptop", "");
    const impostor = await create("pifleet testfleet/pi7/docker", "hand made");
    const gone = await create("pifleet testfleet/pi9/docker", "managed-by=pifleet cluster=testfleet node=pi9 pool=docker");
    const otherCluster = await create("pifleet elsewhere/pi1/docker", "managed-by=pifleet cluster=elsewhere node=pi1 pool=docker");
    const stale = (await listAll()).find((r) => r.description.startsWith("pifleet testfleet/pi3/docker [")) as Listed;
    await gl.control("POST", `/runners/${stale.id}/status`, { status: "stale" });

    const { plan, report } = await prune(runnerContext(fleet, gl.api, nodes), { stale: true, drain: noWait });
    expect(plan.actions.filter((a) => a.kind === "delete").map((a) => ("runnerId" in a ? a.runnerId : 0))).toEqual(
      [gone, stale.id].sort((a, b) => a - b),
    );
    // The planner read the look-alike's maintenance note, so it plans nothing for it and says why.
    expect(plan.notes).toContainEqual({
      level: "warn",
      subject: "pifleet testfleet/pi7/docker",
      message: `runner #${impostor} is described like pifleet's but its maintenance note has no matching pifleet marker — left alone`,
    });
    expect(report?.failures).toEqual([]);
    const left = new Set((await listAll()).map((r) => r.id));
    expect([foreign, impostor, otherCluster].every((id) => left.has(id))).toBe(true);
    expect(left.has(gone) || left.has(stale.id)).toBe(false);
  });

  it("drain pauses, waits for the running job, then stops the service", async () => {
    const nodes = new MemoryNodes();
    await reconcile(gl.api, nodes);
    const pi2 = (await listAll()).filter((r) => r.description.startsWith("pifleet testfleet/pi2/"));
    const job = await gl.control<{ id: number }>("POST", `/runners/${pi2[0]?.id}/jobs`, { name: "long build" });
    const events: string[] = [];
    const ctx = runnerContext(fleet, gl.api, nodes, (m) => events.push(m));
    const draining = drainNode(ctx, "pi2", { timeoutMs: 10_000, pollMs: 20 });
    await new Promise((r) => setTimeout(r, 200));
    expect(nodes.log).not.toContain("stop pi2");
    expect(events.some((e) => e.startsWith("pi2: waiting for 1 running job"))).toBe(true);
    await gl.control("POST", `/jobs/${job.id}/finish`, { status: "success" });
    const report = await draining;
    expect(nodes.log).toContain("stop pi2");
    expect(report.paused.map((p) => p.id).sort()).toEqual(pi2.map((r) => r.id).sort());
    expect((await listAll()).filter((r) => r.description.startsWith("pifleet testfleet/pi2/")).every((r) => r.paused)).toBe(true);
    // A drained node's pause is pifleet's: the plan says so and keeps it.
    const { plan } = await planFleet(fleet, gl.api, nodes);
    expect(plan.notes.filter((n) => n.message.includes("drained by pifleet"))).toHaveLength(2);
  });
});

describe("resilience and secrets", () => {
  it("survives a 429 storm, honouring Retry-After", async () => {
    const clock = manualClock();
    const api = gl.client({ clock });
    await gl.control("POST", "/faults", { kind: "status", status: 429, retry_after: 3, count: 5 });
    const nodes = new MemoryNodes();
    const { report } = await reconcile(api, nodes);
    expect(report.failures).toEqual([]);
    expect(clock.sleeps).toEqual([3000, 3000, 3000, 3000, 3000]);
    await expectConverged(nodes);
  });

  it("retries 5xx and dropped connections with backoff, and gives up with a clear error after the last try", async () => {
    const clock = manualClock();
    const api = gl.client({ clock, random: () => 0 });
    await gl.control("POST", "/faults", { kind: "status", status: 503, count: 2 });
    await gl.control("POST", "/faults", { kind: "drop", count: 1 });
    expect(await api.listRunners()).toEqual([]);
    expect(clock.sleeps).toEqual([125, 250, 500]);
    await gl.control("POST", "/faults", { kind: "status", status: 500, count: 100 });
    const err = await api.listRunners().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GitlabHttpError);
    // The shared transport names the call relative to /api/v4, with its query.
    expect((err as Error).message).toBe(
      `GitLab GET /projects/${gl.emu.projectId}/runners?type=project_type&per_page=100 answered 500: 500 Internal Server Error`,
    );
  });

  it("never shows the API token in an error, and says which scopes are needed", async () => {
    // A Developer: a member, but below the Maintainer role listing a project's runners needs (403; a non-member gets 404).
    const minted = await gl.control<{ token: string }>("POST", "/tokens", { scopes: ["read_api"], access_level: 30 });
    const api = gl.client({ token: minted.token });
    const err = explainRunnerError(await api.listRunners().catch((e: unknown) => e)) as Error & { hint?: string };
    expect(err.message).toMatch(/^GitLab GET \/projects\/\d+\/runners\?\S* answered 403/);
    expect(err.hint).toContain("read_api, create_runner and manage_runner");
    expect(`${err.message} ${err.hint} ${err.stack}`).not.toContain(minted.token);
    expect(`${err.message} ${err.stack}`).not.toContain(gl.emu.adminToken);
  });
});
