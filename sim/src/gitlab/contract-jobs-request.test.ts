import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { JobExecutor, JobRun } from "./index.js";
import { call, control, NEEDS_CONTROL, REAL_GITLAB, type Target, useContractTarget } from "./test-support/target.js";
import { until } from "./test-support/until.js";

// GitLab contract of the runner-facing job request (lib/api/ci/runner.rb POST /jobs/request) and the
// job-token endpoint GET /job. python-gitlab has no runner client: plain fetch, as gitlab-runner sends it.

/** Jobs the emulator hands to its executor: each waits until the test finishes it (or it is aborted). */
const started: JobRun[] = [];
const finishers = new Map<number, (exitCode: number) => void>();
const executor: JobExecutor = (run) =>
  new Promise((resolve) => {
    started.push(run);
    run.onOutput(`running ${run.jobName} on ${run.node.address}\n`);
    finishers.set(run.jobId, (exitCode) => resolve({ exitCode }));
    run.signal.addEventListener("abort", () => resolve({ exitCode: 137 }));
  });

const { target, runners } = useContractTarget({ executor });
const TAG = `contract-${randomBytes(4).toString("hex")}`;
const SYSTEM_ID = `s_${randomBytes(6).toString("hex")}`;

function info(executorName = "docker") {
  return {
    name: "gitlab-runner",
    version: "17.11.0",
    revision: "abcdef12",
    platform: "linux",
    architecture: "arm64",
    executor: executorName,
    shell: "bash",
    features: { variables: true, artifacts: true, cache: true, cancelable: true },
    config: { node: "pi9", limit: 1, concurrent: 2, docker: { volumes: ["/cache"], image: "debian:bookworm-slim" } },
  };
}

const request = (token: string, extra: Record<string, unknown> = {}) =>
  call(target, "POST", "/jobs/request", { token: null, body: { token, system_id: SYSTEM_ID, info: info(), ...extra } });

/** A pipeline the scheduler runs (stages given), with jobs on the default branch unless told otherwise. */
async function pipeline(t: Target, jobs: Array<Record<string, unknown>>, fields: Record<string, unknown> = {}) {
  return (await control(t, "POST", "/pipelines", { stages: ["build", "test"], jobs, ...fields })) as {
    pipeline: { id: number };
    jobs: Array<{ id: number; name: string; status: string }>;
  };
}

describe("POST /jobs/request", () => {
  it("400 without a token, 403 for an unknown one", async () => {
    const missing = await call(target, "POST", "/jobs/request", { token: null, body: {} });
    expect(missing.status).toBe(400);
    expect(missing.body).toEqual({ error: "token is missing" });
    const unknown = await request("glrt-not-a-runner-token");
    expect(unknown.status).toBe(403);
  });

  it("204 with X-GitLab-Last-Update when there is nothing to run; the request is the runner's contact", async () => {
    const runner = await runners.group({ tag_list: [TAG, "nothing-here"], run_untagged: false });
    const reply = await request(runner.token);
    expect(reply.status).toBe(204);
    expect(reply.body).toBe("");
    expect(reply.headers.get("x-gitlab-last-update")).toMatch(/\S+/);
    const details = (await call(target, "GET", `/runners/${runner.id}`)).body as { contacted_at: string | null; status: string };
    expect(details.contacted_at).not.toBeNull();
    expect(details.status).toBe("online");
    const managers = (await call(target, "GET", `/runners/${runner.id}/managers`)).body as Array<Record<string, unknown>>;
    expect(managers).toEqual([
      expect.objectContaining({ system_id: SYSTEM_ID, version: "17.11.0", revision: "abcdef12", platform: "linux", architecture: "arm64" }),
    ]);
    if (!REAL_GITLAB) expect(managers[0]?.ip_address).toBe("127.0.0.1");
  });

  it("a paused runner gets 204", async () => {
    const runner = await runners.group({ tag_list: [TAG], paused: true });
    expect((await request(runner.token)).status).toBe(204);
  });
});

describe.skipIf(REAL_GITLAB)(`job assignment and the job payload${NEEDS_CONTROL}`, () => {
  it("201 with GitLab's job payload; the job runs on the runner's node, recorded against the runner", async () => {
    await call(target, "POST", `/projects/${target.projectId}/variables`, {
      body: { key: `${TAG.replaceAll("-", "_")}_SECRET`, value: "s3cr3t-value-1", masked: true },
    });
    await call(target, "POST", `/projects/${target.projectId}/variables`, { body: { key: "PROTECTED_ONLY", value: "p", protected: true } });
    const runner = await runners.group({ tag_list: [TAG, "payload"] });
    const made = await pipeline(target, [
      {
        name: "build",
        stage: "build",
        tag_list: [TAG, "payload"],
        config: { image: "alpine:3", script: ["echo hi"], before_script: ["true"] },
      },
    ]);
    const reply = await request(runner.token);
    expect(reply.status).toBe(201);
    const payload = reply.body as Record<string, unknown> & { variables: Array<Record<string, unknown>>; token: string };
    expect(payload).toMatchObject({
      id: made.jobs[0]?.id,
      token: expect.stringMatching(/^glcbt-/),
      allow_git_fetch: true,
      job_info: { id: made.jobs[0]?.id, name: "build", stage: "build", project_id: target.projectId, project_name: "infra" },
      git_info: { ref: "main", ref_type: "branch", sha: expect.stringMatching(/^[0-9a-f]{40}$/), before_sha: "0".repeat(40) },
      runner_info: { timeout: 3600 },
      steps: [{ name: "script", script: ["true", "echo hi"], timeout: 3600, when: "on_success", allow_failure: false }],
      image: { name: "alpine:3", entrypoint: null, ports: [] },
      services: [],
      artifacts: [],
    });
    const vars = new Map(payload.variables.map((v) => [v.key, v]));
    expect(vars.get("CI_JOB_TOKEN")).toEqual({ key: "CI_JOB_TOKEN", value: payload.token, public: false, file: false, masked: true });
    expect(vars.get("CI_JOB_ID")).toMatchObject({ value: String(made.jobs[0]?.id), public: true });
    expect(vars.get("CI_RUNNER_ID")).toMatchObject({ value: String(runner.id) });
    expect(vars.get(`${TAG.replaceAll("-", "_")}_SECRET`)).toMatchObject({ value: "s3cr3t-value-1", masked: true, public: false });
    // The control API's pipeline is on the default branch: protected, so the protected variable is there.
    expect(vars.get("PROTECTED_ONLY")?.value).toBe("p");

    // The emulator runs it on the node the request came from, with the runner's docker settings.
    const run = await until(async () => started.find((r) => r.jobId === made.jobs[0]?.id));
    expect(run.node).toEqual({ name: "pi9", address: "127.0.0.1" });
    expect(run.docker).toEqual({ volumes: ["/cache"], defaultImage: "debian:bookworm-slim" });
    const job = (await call(target, "GET", `/projects/${target.projectId}/jobs/${run.jobId}`)).body as Record<string, unknown>;
    expect(job).toMatchObject({ status: "running", runner: expect.objectContaining({ id: runner.id }) });

    // The job token works while the job runs (GET /job), and no longer after.
    const byToken = await call(target, "GET", "/job", { token: null, headers: { "JOB-TOKEN": payload.token } });
    expect(byToken.status).toBe(200);
    expect(byToken.body).toMatchObject({ id: run.jobId, status: "running" });
    finishers.get(run.jobId)?.(0);
    await until(async () => {
      const j = (await call(target, "GET", `/projects/${target.projectId}/jobs/${run.jobId}`)).body as { status: string };
      return j.status === "success" ? j : undefined;
    });
    const trace = await call(target, "GET", `/projects/${target.projectId}/jobs/${run.jobId}/trace`);
    expect(trace.body).toContain("running build on 127.0.0.1");
    expect(trace.body).toContain("Job succeeded");
    expect((await call(target, "GET", "/job", { token: null, headers: { "JOB-TOKEN": payload.token } })).status).toBe(401);
  });

  it("a held request (last_update as answered) returns as soon as a job is there", async () => {
    const runner = await runners.group({ tag_list: [TAG, "held"], run_untagged: false });
    const first = await request(runner.token);
    const lastUpdate = first.headers.get("x-gitlab-last-update");
    const t0 = Date.now();
    const held = request(runner.token, { last_update: lastUpdate });
    await new Promise((r) => setTimeout(r, 200));
    const made = await pipeline(target, [{ name: "held-job", stage: "build", tag_list: [TAG, "held"] }]);
    const reply = await held;
    expect(reply.status).toBe(201);
    expect((reply.body as { id: number }).id).toBe(made.jobs[0]?.id);
    expect(Date.now() - t0).toBeLessThan(5000);
    finishers.get(made.jobs[0]?.id ?? 0)?.(0);
  });

  it("a shell-executor runner gets the job, handed to the executor as a shell job with the payload's steps", async () => {
    const runner = await runners.group({ tag_list: [TAG, "shell"], run_untagged: false });
    const made = await pipeline(target, [
      {
        name: "shell-job",
        stage: "build",
        tag_list: [TAG, "shell"],
        config: { before_script: ["id -un"], script: ["hostname"], after_script: ["echo done"], artifacts: { paths: ["out/"] } },
      },
    ]);
    const reply = await request(runner.token, { info: info("shell") });
    expect(reply.status).toBe(201);
    const run = await until(async () => started.find((r) => r.jobId === made.jobs[0]?.id));
    expect(run).toMatchObject({
      executor: "shell",
      runnerShortToken: runner.token.slice("glrt-".length, "glrt-".length + 9),
      job: {
        steps: [
          { name: "script", script: ["id -un", "hostname"] },
          { name: "after_script", script: ["echo done"] },
        ],
        artifacts: [{ paths: ["out/"], when: "on_success" }],
        dependencies: [],
      },
    });
    finishers.get(run.jobId)?.(0);
    const trace = await until(async () => {
      const t = (await call(target, "GET", `/projects/${target.projectId}/jobs/${run.jobId}/trace`)).body as string;
      return t.includes("Job succeeded") ? t : undefined;
    });
    expect(trace.split("\n")[0]).toMatch(
      /^Running with the pifleet sim runner \(shell executor, as gitlab-runner on the node over SSH\) on pi9 /,
    );
  });

  it("a runner with an executor the sim does not run gets nothing, and the job's stuck reason says why", async () => {
    const runner = await runners.group({ tag_list: [TAG, "k8s"], run_untagged: false });
    expect((await request(runner.token, { info: info("kubernetes") })).status).toBe(204);
    const made = await pipeline(target, [{ name: "k8s-job", stage: "build", tag_list: [TAG, "k8s"] }]);
    expect((await request(runner.token, { info: info("kubernetes") })).status).toBe(204);
    const view = (await control(target, "GET", `/jobs/${made.jobs[0]?.id}`)) as { status: string; stuck_reason: string };
    expect(view.status).toBe("pending");
    expect(view.stuck_reason).toMatch(/\(#\d+ kubernetes\) use an executor the sim does not run: it runs docker and shell runners only/);
  });

  it("cancel: a running job is aborted and ends canceled, the pipeline's waiting jobs are canceled", async () => {
    const runner = await runners.group({ tag_list: [TAG, "cancel"], run_untagged: false });
    const made = await pipeline(target, [
      { name: "long", stage: "build", tag_list: [TAG, "cancel"] },
      { name: "after", stage: "test", tag_list: [TAG, "cancel"] },
    ]);
    expect((await request(runner.token)).status).toBe(201);
    const canceled = await call(target, "POST", `/projects/${target.projectId}/pipelines/${made.pipeline.id}/cancel`);
    expect(canceled.status).toBe(201);
    const jobs = await until(async () => {
      const list = (await call(target, "GET", `/projects/${target.projectId}/pipelines/${made.pipeline.id}/jobs`)).body as Array<{
        name: string;
        status: string;
      }>;
      return list.every((j) => j.status === "canceled") ? list : undefined;
    });
    expect(jobs.map((j) => j.name).sort()).toEqual(["after", "long"]);
    const p = (await call(target, "GET", `/projects/${target.projectId}/pipelines/${made.pipeline.id}`)).body as { status: string };
    expect(p.status).toBe("canceled");
  });

  it("a job past its timeout fails with job_execution_timeout", async () => {
    const runner = await runners.group({ tag_list: [TAG, "slow"], run_untagged: false });
    const made = await pipeline(target, [{ name: "slow", stage: "build", tag_list: [TAG, "slow"], timeout_s: 1 }]);
    const reply = await request(runner.token);
    expect((reply.body as { runner_info: { timeout: number } }).runner_info.timeout).toBe(1);
    const job = await until(async () => {
      const j = (await call(target, "GET", `/projects/${target.projectId}/jobs/${made.jobs[0]?.id}`)).body as Record<string, unknown>;
      return j.status === "failed" ? j : undefined;
    }, 5000);
    expect(job.failure_reason).toBe("job_execution_timeout");
  });

  it("stages run in order, and one resource group runs one job at a time across pipelines", async () => {
    const tags = [TAG, "fleet"];
    const runner = await runners.group({ tag_list: tags, run_untagged: false });
    const roomy = { ...info(), config: { ...info().config, limit: 4, concurrent: 4 } };
    const take = async () => {
      const reply = await request(runner.token, { info: roomy });
      return reply.status === 201 ? (reply.body as { id: number; job_info: { name: string } }) : undefined;
    };
    const status = async (id: number | undefined) =>
      ((await call(target, "GET", `/projects/${target.projectId}/jobs/${id}`)).body as { status: string }).status;
    const one = await pipeline(target, [
      { name: "configure", stage: "build", tag_list: tags, resource_group: "fleet" },
      { name: "verify", stage: "test", tag_list: tags },
    ]);
    const two = await pipeline(target, [{ name: "configure", stage: "build", tag_list: tags, resource_group: "fleet" }]);
    const first = await take();
    expect(first?.id).toBe(one.jobs[0]?.id);
    // The runner has room, but the group is held: the other pipeline's job waits for the resource.
    expect(await take()).toBeUndefined();
    expect(await status(two.jobs[0]?.id)).toBe("waiting_for_resource");
    expect(await status(one.jobs[1]?.id)).toBe("created");
    finishers.get(first?.id ?? 0)?.(0);
    // The group is free and the next stage of the first pipeline may start: both are handed out now.
    const next = await until(async () => take());
    const after = await until(async () => take());
    expect([next.id, after.id].sort()).toEqual([one.jobs[1]?.id, two.jobs[0]?.id].sort());
    for (const id of [next.id, after.id]) finishers.get(id)?.(0);
  });
});
