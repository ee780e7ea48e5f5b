import { readFile, rm } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { run } from "@pifleet/io";
import { fleetPathOf } from "@pifleet/pipelines";
import { SIM_PROJECT_FLEET_FILE, SIM_PROJECT_KNOWN_HOSTS, type SimStatus, simDown, simUp } from "@pifleet/sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PIFLEET_BIN } from "../test-support/run-cli.js";

// `pifleet sim push` and `sim ci` against a 1-node sim: the push makes the pipeline GitLab would make for
// this repository and the sim's fleet; the view is checked on jobs moved through the emulator's control
// API (a runner on pi1), so it does not depend on jobs really running.
const dir = "/tmp/pifleet-itest-sim-pipeline";
const repo = fileURLToPath(new URL("../../../", import.meta.url));
const log = (m: string) => process.stderr.write(`[sim-pipeline itest] ${m}\n`);
let sim: SimStatus;
/** The first push's answer (`sim push --json`). */
let first: { sha: string; pipeline: { id: number; sha: string; ref: string; source: string } | null; changed: boolean };

/** The built CLI, asynchronously (a follower runs while the test moves jobs). */
function pifleet(...args: string[]) {
  const started = Date.now();
  return run(process.execPath, [PIFLEET_BIN, ...args, "--dir", dir], {
    cwd: repo,
    env: { ...process.env, NO_COLOR: "1", PIFLEET_SIM_DIR: "" },
    allowFailure: true,
    timeoutMs: 300_000,
  }).then((r) => {
    log(`pifleet ${args.join(" ")}: exit ${r.code} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return r;
  });
}

async function http<T>(method: string, path: string, body?: unknown, token = sim.gitlab?.token ?? ""): Promise<T> {
  const res = await fetch(`${sim.gitlab?.url}${path}`, {
    method,
    headers: { "PRIVATE-TOKEN": token, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${text}`);
  return (res.headers.get("content-type") ?? "").includes("json") ? (JSON.parse(text) as T) : (text as T);
}

interface Variable {
  key: string;
  value: string;
  variable_type: string;
  protected: boolean;
  masked: boolean;
}

beforeAll(async () => {
  const started = Date.now();
  sim = await simUp({ dir, nodes: 1, progress: (m) => log(m) });
  log(`sim up: ${((Date.now() - started) / 1000).toFixed(1)} s`);
});

afterAll(async () => {
  await simDown(dir);
  await rm(dir, { recursive: true, force: true });
});

describe("pifleet sim push", () => {
  it("pushes the working tree with the sim's fleet, and the push creates the default branch's pipeline", async () => {
    const r = await pifleet("sim", "push", "--no-mirror", "--json");
    expect(r.code, r.stderr).toBe(0);
    first = JSON.parse(r.stdout);
    expect(first.pipeline).toMatchObject({ sha: first.sha, ref: "main", source: "push" });

    const project = `${dir}/project`;
    const show = async (path: string) => (await run("git", ["--git-dir", project, "show", `${first.sha}:${path}`])).stdout;
    expect(await show(SIM_PROJECT_FLEET_FILE)).toBe(await readFile(sim.fleetFile, "utf8"));
    expect(await show(SIM_PROJECT_KNOWN_HOSTS)).toBe(await readFile(sim.knownHosts, "utf8"));
    expect(fleetPathOf(await show(".gitlab-ci.yml"))).toBe(SIM_PROJECT_FLEET_FILE);
    expect(await show("package.json")).toBe(await readFile(`${repo}/package.json`, "utf8"));
  });

  it("the pushed .gitlab-ci.yml is what `pifleet pipeline check` regenerates in a checkout (its drift check passes there)", async () => {
    const checkout = `${dir}/checkout`;
    await run("git", ["--git-dir", `${dir}/project`, "worktree", "add", "--detach", checkout, first.sha]);
    const check = await run(process.execPath, [PIFLEET_BIN, "pipeline", "check"], { cwd: checkout, allowFailure: true });
    expect(check.code, check.stderr + check.stdout).toBe(0);
  });

  it("sets the variables the pipeline reads; the tokens it made work", async () => {
    const vars = await http<Variable[]>("GET", `/api/v4/projects/${sim.gitlab?.projectId}/variables?per_page=100`);
    const byKey = new Map(vars.map((v) => [v.key, v]));
    expect(byKey.get("PIFLEET_SSH_KEY")).toMatchObject({ variable_type: "file", protected: true });
    expect(byKey.get("PIFLEET_SSH_KEY")?.value).toBe(await readFile(sim.sshKey, "utf8"));
    expect(byKey.get("PIFLEET_PLAN_SSH_KEY")).toMatchObject({ variable_type: "file", protected: false });
    expect(byKey.get("GITLAB_TOKEN")).toMatchObject({ masked: true, protected: true });
    expect(byKey.get("PIFLEET_PLAN_TOKEN")).toMatchObject({ masked: true, protected: false });
    expect(byKey.get("PIFLEET_BUILD_PROXY")?.value).toBe(sim.aptProxy);
    for (const key of ["GITLAB_TOKEN", "PIFLEET_PLAN_TOKEN"]) {
      await expect(http("GET", "/api/v4/user", undefined, byKey.get(key)?.value)).resolves.toBeTruthy();
    }
  });

  it("a second push with nothing changed makes an empty commit and a new pipeline", async () => {
    const r = await pifleet("sim", "push", "--no-mirror");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /^pushed [0-9a-f]{8} to main of http:\/\/.*\/pifleet\/infra\.git: \d+ files, nothing changed \(an empty commit\)$/m,
    );
    expect(r.stdout).toMatch(/^CI\/CD variables: 0 created, 0 updated, 5 unchanged$/m);
    expect(r.stdout).toMatch(new RegExp(`^pipeline #(?!${first.pipeline?.id}\\b)\\d+ \\w+: http`, "m"));
  });
});

describe("pifleet sim ci", () => {
  let runnerId = 0;
  let pipelineId = 0;
  let jobs: { id: number; name: string }[] = [];

  beforeAll(async () => {
    const node = sim.nodes[0];
    const runner = await http<{ id: number }>("POST", "/api/v4/user/runners", {
      runner_type: "project_type",
      project_id: sim.gitlab?.projectId,
      description: `pifleet ${sim.instance}/pi1/view-test [view]`,
      tag_list: ["view"],
      run_untagged: false,
    });
    runnerId = runner.id;
    await http("POST", `/-/sim/runners/${runnerId}/contact`, { system_id: "s_viewtest", ip_address: node?.address });
    const made = await http<{ pipeline: { id: number }; jobs: { id: number; name: string }[] }>("POST", "/-/sim/pipelines", {
      jobs: [
        { name: "lint", stage: "verify", tag_list: ["view"], status: "pending" },
        { name: "deploy", stage: "deploy", tag_list: ["view"] },
      ],
    });
    pipelineId = made.pipeline.id;
    jobs = made.jobs;
  });

  const jobId = (name: string) => jobs.find((j) => j.name === name)?.id;
  const move = (name: string, body: Record<string, unknown>) => http("PUT", `/-/sim/jobs/${jobId(name)}`, body);

  it("--follow prints a line per change with node and runner, and exits 0 when the pipeline succeeds", async () => {
    const follower = pifleet("sim", "ci", String(pipelineId), "--follow");
    await new Promise((r) => setTimeout(r, 3000));
    await move("lint", { status: "running", runner_id: runnerId, system_id: "s_viewtest", trace: "linting\n" });
    await new Promise((r) => setTimeout(r, 2500));
    await move("lint", { status: "success", append_trace: "lint ok\n" });
    await move("deploy", { status: "pending" });
    await new Promise((r) => setTimeout(r, 2500));
    await move("deploy", { status: "running", runner_id: runnerId, system_id: "s_viewtest" });
    await move("deploy", { status: "success", trace: "deployed\n" });
    const r = await follower;
    log(r.stdout);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^\\d\\d:\\d\\d:\\d\\d  verify  lint  running  on pi1 \\(runner #${runnerId}\\)$`, "m"));
    expect(r.stdout).toMatch(new RegExp(`^\\d\\d:\\d\\d:\\d\\d  verify  lint  success  on pi1 \\(runner #${runnerId}\\)  \\d+s$`, "m"));
    expect(r.stdout).toMatch(new RegExp(`^\\d\\d:\\d\\d:\\d\\d  pipeline #${pipelineId}  success`, "m"));
    expect(r.stdout).toMatch(/^2 jobs: 2 success · per node: pi1 2$/m);
  });

  it("--json shows the final state; --trace prints a job's log", async () => {
    const r = await pifleet("sim", "ci", String(pipelineId), "--json");
    expect(r.code, r.stderr).toBe(0);
    const view = JSON.parse(r.stdout);
    expect(view).toMatchObject({ id: pipelineId, status: "success", end: null });
    expect(view.jobs.map((j: { name: string; node: string; status: string }) => [j.name, j.node, j.status])).toEqual([
      ["lint", "pi1", "success"],
      ["deploy", "pi1", "success"],
    ]);
    const trace = await pifleet("sim", "ci", String(pipelineId), "--trace", "lint");
    expect(trace.stdout).toBe("linting\nlint ok\n");
    const none = await pifleet("sim", "ci", String(pipelineId), "--trace", "nosuch");
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('has no job "nosuch"');
    expect((await pifleet("sim", "ci", "999999")).code).toBe(2);
  });

  it("a failed job fails the view (exit 1) with the end of its log and the command for the rest", async () => {
    const made = await http<{ pipeline: { id: number }; jobs: { id: number }[] }>("POST", "/-/sim/pipelines", {
      jobs: [{ name: "unit-tests", stage: "verify", tag_list: ["view"], status: "pending" }],
    });
    const id = made.jobs[0]?.id;
    await http("PUT", `/-/sim/jobs/${id}`, { status: "running", runner_id: runnerId, system_id: "s_viewtest", trace: "1 test failed\n" });
    await http("PUT", `/-/sim/jobs/${id}`, { status: "failed", failure_reason: "script_failure" });
    const r = await pifleet("sim", "ci", String(made.pipeline.id), "--follow");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error: pipeline #${made.pipeline.id} failed: unit-tests failed (script_failure)`);
    expect(r.stderr).toContain("1 test failed");
    expect(r.stderr).toContain(`pifleet sim ci ${made.pipeline.id} --trace unit-tests`);
  });

  it("a pipeline no runner can take is reported stuck, with GitLab's reason (exit 1)", async () => {
    const r = await pifleet("sim", "ci", String(first.pipeline?.id ?? ""), "--follow", "--stuck-timeout", "3s");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/is stuck: no runner can take .*: This job is stuck because/);
  });
});
