import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Fleet, type FleetNode, loadFleetFile } from "@pifleet/fleet";
import { gitlabTransport, run, Secret } from "@pifleet/io";
import { type SimStatus, simControlHeaders, simDown, simFault, simUp } from "@pifleet/sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyPlan } from "./apply.js";
import { parseConfig } from "./config-toml.js";
import { runnerContext } from "./context.js";
import { runnerScope } from "./desired.js";
import { drainNode, undrainNode } from "./drain.js";
import { createGitlabClient } from "./gitbeaker-client.js";
import type { GitlabApi } from "./gitlab-api.js";
import { planFleet } from "./reconcile.js";
import { rotateTokens } from "./rotate.js";
import { SshNodeAccess } from "./ssh-node-access.js";
import { sshLockSite, takeRunnersLock } from "./ssh-runners-lock.js";
import { fleetRunnerStatus } from "./status.js";
import { SimShell } from "./test-support/sim-shell.js";

/**
 * runner-manager against real sim nodes (systemd, sshd with pinned host keys) and the sim's GitLab
 * emulator, with sim/runner-standin as gitlab-runner.service (sim up installs it). Two nodes are enough.
 */

const CLI = new URL("../../cli/bin/pifleet.js", import.meta.url).pathname;
let dir: string;
let sim: SimStatus;
let fleet: Fleet;
let api: GitlabApi;
let nodes: SshNodeAccess;
let shell: SimShell;
let token: string;
let projectId: number;
let lockNode: FleetNode;
const drain = { timeoutMs: 30_000, pollMs: 500 };

async function control<T>(path: string, body: unknown): Promise<T> {
  const res = await fetch(`${sim.gitlab?.url}/-/sim${path}`, {
    method: "POST",
    headers: { ...simControlHeaders(sim.gitlab), "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return (await res.json()) as T;
}

/**
 * The runner manager's token as docs/runners.md prescribes it, minted through GitLab's API with the
 * sim's admin token: a project access token with the Maintainer role and read_api, create_runner,
 * manage_runner — least privilege, so every call the tests make must work without an admin.
 */
async function mintRunnerManagerToken(adminToken: string, project: number): Promise<string> {
  const res = await fetch(`${sim.gitlab?.url}/api/v4/projects/${project}/access_tokens`, {
    method: "POST",
    headers: { "content-type": "application/json", "PRIVATE-TOKEN": adminToken },
    body: JSON.stringify({ name: "pifleet-runner-manager", scopes: ["read_api", "create_runner", "manage_runner"], access_level: 40 }),
  });
  if (res.status !== 201) throw new Error(`minting the runner manager's project access token failed: HTTP ${res.status}`);
  return ((await res.json()) as { token: string }).token;
}

async function verifyStatus(runnerToken: string): Promise<number> {
  const res = await fetch(`${sim.gitlab?.url}/api/v4/runners/verify`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ token: runnerToken, system_id: "s_itestprobe01" }),
  });
  return res.status;
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function reconcile() {
  const { plan } = await planFleet(fleet, api, nodes);
  return { plan, report: await applyPlan(plan, api, nodes, { drain }) };
}

/** `pifleet runners …` as a person or a CI job runs it, with the runner manager's token. */
const cli = (...args: string[]) =>
  run("node", [CLI, "runners", ...args, "--fleet", sim.fleetFile], {
    env: { ...process.env, GITLAB_TOKEN: token, NO_COLOR: "1" },
    allowFailure: true,
  });

const runnerBlocks = async (node: string) =>
  (parseConfig((await nodes.read(node)).configText, node) as { runners?: { id: number; token: string }[] }).runners ?? [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "pifleet-runners-itest-"));
  sim = await simUp({ dir, nodes: 2 });
  if (!sim.gitlab) throw new Error("sim started without its GitLab emulator");
  const loaded = await loadFleetFile(sim.fleetFile);
  fleet = loaded.fleet;
  const scope = loaded.topology.runnerScope;
  if (scope.type !== "project") throw new Error(`the sim fleet's runner scope is ${scope.type}; this test mints a project access token`);
  projectId = scope.id;
  lockNode = loaded.topology.primaryManager;
  token = await mintRunnerManagerToken(sim.gitlab.token, projectId);
  const transport = gitlabTransport({ url: fleet.gitlab.url, auth: { header: "PRIVATE-TOKEN", token: new Secret(token) } });
  api = createGitlabClient(transport, runnerScope(loaded.topology.runnerScope));
  nodes = new SshNodeAccess(fleet);
  shell = new SimShell(fleet);
}, 600_000);

afterAll(async () => {
  await shell?.close();
  await nodes?.close();
  if (dir) await simDown(dir);
}, 300_000);

describe("runners on sim nodes", () => {
  it("the runner manager's token is a Maintainer bot's: not an admin, and refused what its scopes and role do not allow", async () => {
    const get = (path: string) => fetch(`${sim.gitlab?.url}/api/v4${path}`, { headers: { "PRIVATE-TOKEN": token } });
    const me = await get("/user");
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ is_admin: false, bot: true });
    // An administrator's endpoint: 403.
    const all = await get("/runners/all");
    expect(all.status).toBe(403);
    expect(await all.json()).toEqual({ message: "403 Forbidden" });
    // A write outside its scopes (read_api does not write variables): 403 insufficient_scope.
    const write = await fetch(`${sim.gitlab?.url}/api/v4/projects/${projectId}/variables`, {
      method: "POST",
      headers: { "content-type": "application/json", "PRIVATE-TOKEN": token },
      body: JSON.stringify({ key: "NOT_ALLOWED", value: "x" }),
    });
    expect(write.status).toBe(403);
    expect(await write.json()).toMatchObject({ error: "insufficient_scope" });
  });

  it("plan → apply → plan is empty; config.toml is root's, 0600; the runner process verifies its tokens", async () => {
    const first = await reconcile();
    expect(first.report.failures).toEqual([]);
    // The sim fleet's two pools: amd64-docker on both nodes, deploy (docker socket, protected) on both too.
    expect(first.plan.actions.filter((a) => a.kind === "create")).toHaveLength(4);
    expect((await planFleet(fleet, api, nodes)).plan.actions).toEqual([]);
    for (const n of sim.nodes) {
      expect((await shell.root(n.name, "stat -c '%U:%G %a' /etc/gitlab-runner/config.toml")).trim()).toBe("root:root 600");
      const blocks = (
        parseConfig((await nodes.read(n.name)).configText, n.name) as { runners: { name: string; docker: { volumes: string[] } }[] }
      ).runners;
      expect(blocks.map((b) => [b.name.split("/").pop(), b.docker.volumes])).toEqual([
        ["amd64-docker", ["/cache"]],
        ["deploy", ["/var/run/docker.sock:/var/run/docker.sock", "/cache"]],
      ]);
    }
    await until("all four runners online", async () => (await api.listRunners()).filter((r) => r.status === "online").length === 4);
    const status = await fleetRunnerStatus(runnerContext(fleet, api, nodes));
    for (const n of status.nodes) {
      expect(n).toMatchObject({ reachable: true, service: "active" });
      expect(n.runners[0]).toMatchObject({
        status: "online",
        paused: false,
        runningJobs: 0,
        inConfig: true,
        tags: ["amd64", "docker", "pi"],
      });
    }
  });

  it("rotate changes the token in GitLab and on the node, and the runner keeps working with the new one", async () => {
    const blocks = await runnerBlocks("pi2");
    const [before] = blocks;
    const report = await rotateTokens(runnerContext(fleet, api, nodes), ["pi2"], { drain });
    expect(report.rotated).toEqual([{ node: "pi2", runners: blocks.map((b) => b.id) }]);
    const [after] = await runnerBlocks("pi2");
    expect(after?.token).not.toBe(before?.token);
    expect(await verifyStatus(before?.token as string)).toBe(403);
    expect(await verifyStatus(after?.token as string)).toBe(200);
    const log = await shell.root("pi2", "journalctl -u gitlab-runner --no-pager -n 50");
    expect(log).toContain("config reloaded");
    expect(log).not.toContain(after?.token as string);
  });

  it("drain waits for a running job, then stops gitlab-runner; undrain resumes", async () => {
    const blocks = await runnerBlocks("pi1");
    const [block] = blocks;
    const job = await control<{ id: number }>(`/runners/${block?.id}/jobs`, { name: "long build" });
    const progress: string[] = [];
    const ctx = runnerContext(fleet, api, nodes, (m) => progress.push(m));
    const draining = drainNode(ctx, "pi1", { timeoutMs: 60_000, pollMs: 300 });
    await until("drain to wait on the job", async () => progress.some((p) => p.startsWith("pi1: waiting for 1 running job")));
    expect(await shell.serviceState("pi1")).toBe("active");
    await control(`/jobs/${job.id}/finish`, { status: "success" });
    const report = await draining;
    expect(report.stopped).toBe(true);
    expect(await shell.serviceState("pi1")).toBe("inactive");
    expect((await api.getRunner(block?.id as number))?.paused).toBe(true);
    const undone = await undrainNode(ctx, "pi1");
    expect(undone.resumed.map((r) => r.id).sort()).toEqual(blocks.map((b) => b.id).sort());
    expect(await shell.serviceState("pi1")).toBe("active");
    expect((await api.getRunner(block?.id as number))?.paused).toBe(false);
  });

  it("SIGQUIT (systemctl stop) lets the runner process finish its running job before it exits", async () => {
    const [block] = await runnerBlocks("pi2");
    const job = await control<{ id: number }>(`/runners/${block?.id}/jobs`, { name: "deploy" });
    const stopping = nodes.stopRunner("pi2");
    await until("the service to be deactivating", async () => (await shell.serviceState("pi2")) === "deactivating");
    await new Promise((r) => setTimeout(r, 1500));
    expect(await shell.serviceState("pi2")).toBe("deactivating");
    await control(`/jobs/${job.id}/finish`, { status: "success" });
    await stopping;
    expect(await shell.serviceState("pi2")).toBe("inactive");
    await nodes.startRunner("pi2");
  });

  it("apply from a job on pi2 that moves listen_address: pi1 restarts now; pi2's restart waits for the job, then happens on its own", async () => {
    const t0 = Date.now();
    const mainPid = async (node: string) => (await shell.root(node, "systemctl show -p MainPID --value gitlab-runner")).trim();
    const [block] = await runnerBlocks("pi2");
    const job = await control<{ id: number }>(`/runners/${block?.id}/jobs`, { name: "runners-apply" });
    const before = await mainPid("pi2");
    const moved = { ...fleet, runners: { ...fleet.runners, metricsPort: fleet.runners.metricsPort + 1 } };
    const { plan } = await planFleet(moved, api, nodes, { selfNode: "pi2" });
    expect(plan.actions.flatMap((a) => (a.kind === "write-config" ? [`${a.node} ${a.restart}`] : []))).toEqual([
      "pi1 now",
      "pi2 after-this-job",
    ]);
    // A restart of pi2 under its own running job would wait for that job: this apply would never return.
    const report = await applyPlan(plan, api, nodes, { drain, deferredRestartSec: 2 });
    expect(report.failures).toEqual([]);
    expect(await mainPid("pi2")).toBe(before);
    // The timer fires: a graceful stop that waits for the job, as a person's `systemctl restart` would.
    await until("pi2's gitlab-runner to stop after its job", async () => (await shell.serviceState("pi2")) === "deactivating");
    await control(`/jobs/${job.id}/finish`, { status: "success" });
    await until("pi2's gitlab-runner to run again", async () => (await shell.serviceState("pi2")) === "active");
    expect(await mainPid("pi2")).not.toBe(before);
    // Back to the fleet's port, for the tests after this one (outside a job: both restart now).
    expect((await reconcile()).report.failures).toEqual([]);
    process.stderr.write(`[runners itest] deferred restart check: ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  });

  it("a revoked token in config.toml (two resets raced): plan shows the fix instead of 'No changes', apply repairs it", async () => {
    const t0 = Date.now();
    const [block] = await runnerBlocks("pi1");
    const id = block?.id as number;
    // The race, as two unlocked applies left it: GitLab's token was reset again after pi1 got the one it holds.
    await api.resetToken(id);
    expect(await verifyStatus(block?.token as string)).toBe(403);
    const plan = await cli("plan");
    expect(plan.code).toBe(0);
    expect(plan.stdout).not.toContain("No changes");
    expect(plan.stdout).toContain(
      `the token in pi1's config.toml is not runner #${id}'s live one (GitLab refuses it); it is reset and rewritten`,
    );
    const applied = await cli("apply");
    expect(applied.code, applied.stderr).toBe(0);
    const [after] = await runnerBlocks("pi1");
    expect(after?.token).not.toBe(block?.token);
    expect(await verifyStatus(after?.token as string)).toBe(200);
    expect((await cli("plan")).stdout).toContain("No changes");
    process.stderr.write(`[runners itest] revoked token found and repaired: ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  });

  it("two concurrent applies: one waits for the other's lock, and each runner ends with exactly one live token", async () => {
    const t0 = Date.now();
    // Every token on both nodes revoked: each apply alone would reset them all; unserialised, the loser's tokens would land last.
    const ids = [...(await runnerBlocks("pi1")), ...(await runnerBlocks("pi2"))].map((b) => b.id);
    for (const id of ids) await api.resetToken(id);
    const [a, b] = await Promise.all([cli("apply"), cli("apply")]);
    process.stderr.write(`[runners itest] two concurrent applies: ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    expect([a?.code, b?.code]).toEqual([0, 0]);
    const waited = [a, b].filter((r) =>
      r?.stderr.includes(`for the runners lock on ${lockNode.name} (/run/pifleet/runners.lock), held by pifleet runners apply (pid `),
    );
    expect(waited).toHaveLength(1);
    expect(waited[0]?.stderr).toMatch(/took the runners lock after \d+\.\d s/);
    // The second planned after the first had written: it found nothing left to do.
    expect(waited[0]?.stdout).toContain("No changes");
    for (const node of ["pi1", "pi2"])
      for (const blk of await runnerBlocks(node)) expect(await verifyStatus(blk.token), `${node} runner #${blk.id}`).toBe(200);
    const listed = (await api.listRunners()).filter((r) => r.description.startsWith(`pifleet ${fleet.cluster}/`));
    expect(listed.map((r) => r.id).sort()).toEqual([...ids].sort());
  });

  it("while another run holds the lock, apply gives up after --lock-timeout: exit 1, the holder named, nothing changed", async () => {
    const t0 = Date.now();
    const holder = { host: "itest-host", pid: 4242, command: "pifleet runners rotate", since: new Date().toISOString() };
    const held = await takeRunnersLock(sshLockSite(fleet.ssh, lockNode, 10), { holder, timeoutSec: 10 });
    try {
      const before = await runnerBlocks("pi2");
      const result = await cli("apply", "--lock-timeout", "2s");
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(
        `the runners lock on ${lockNode.name} (/run/pifleet/runners.lock) is still held after 2 s, by pifleet runners rotate (pid 4242 on itest-host, since ${holder.since}`,
      );
      expect(result.stdout).toBe("");
      expect(await runnerBlocks("pi2")).toEqual(before);
    } finally {
      await held.release();
    }
    // Released: the next run takes it at once.
    expect((await cli("apply", "--lock-timeout", "2s")).code).toBe(0);
    process.stderr.write(`[runners itest] lock timeout check: ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  });

  it("an unreachable node is skipped with exit code 1 and a clear report; tokens never reach the output", async () => {
    await simFault(dir, "pi2", "stop");
    try {
      const result = await run("node", [CLI, "runners", "apply", "--fleet", sim.fleetFile], {
        env: { ...process.env, GITLAB_TOKEN: token, NO_COLOR: "1" },
        allowFailure: true,
      });
      expect(result.code).toBe(1);
      expect(result.stdout).toContain("! pi2: skipped: pi2: ssh");
      expect(result.stderr).toMatch(/not everything converged:\n {2}pi2: skipped \(pi2: ssh /);
      const everything = result.stdout + result.stderr;
      expect(everything).not.toContain(token);
      for (const b of await runnerBlocks("pi1")) expect(everything).not.toContain(b.token);
    } finally {
      await simFault(dir, "pi2", "start");
    }
  });
});
