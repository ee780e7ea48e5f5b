import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "@pifleet/io";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JobExecutor, JobRun } from "./index.js";
import { GitClient, projectPathOf } from "./test-support/git-client.js";
import { pythonGitlab } from "./test-support/python-gitlab.js";
import { call, control, useContractTarget } from "./test-support/target.js";
import { until } from "./test-support/until.js";

// GitLab contract of the job-artifact downloads (lib/api/ci/job_artifacts.rb) with a CI_JOB_TOKEN
// or a project access token, and the control API's record of each job's payload (keys only).
// Jobs run through the emulator's engine with an executor that "collects" a file per job, as the
// sim's executors leave gitlab-ci-local's artifacts dir; the emulator keeps and serves them.

let work: string;
const finishers = new Map<number, (exitCode: number) => void>();
const started: JobRun[] = [];
const executor: JobExecutor = (job) =>
  new Promise((resolve) => {
    started.push(job);
    const dir = join(work, `collected-${job.jobId}`);
    const collect = async () => {
      await mkdir(join(dir, "reports"), { recursive: true });
      await writeFile(join(dir, "observed.json"), JSON.stringify({ job: job.jobName, pipeline: job.pipelineId }));
      await writeFile(join(dir, "reports", "note.txt"), `from ${job.jobName}\n`);
    };
    finishers.set(job.jobId, (exitCode) => void collect().then(() => resolve({ exitCode, artifactsDir: dir })));
    job.signal.addEventListener("abort", () => resolve({ exitCode: 137 }));
  });

const { target, runners } = useContractTarget({ emulator: true, executor });
const TAG = `artifacts-${randomBytes(4).toString("hex")}`;
const SECRET_KEY = "FLEET_KEY_CONTRACT";
/** The protected runner takes the default branch's jobs (only protected refs reach it), the open one the rest. */
const fleetRunners = { protected: { id: 0, token: "" }, open: { id: 0, token: "" } };

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "pifleet-artifacts-contract-"));
  fleetRunners.protected = await runners.group({ tag_list: [TAG], access_level: "ref_protected" });
  fleetRunners.open = await runners.group({ tag_list: [TAG] });
  await call(target, "POST", `/projects/${target.projectId}/variables`, { body: { key: SECRET_KEY, value: "k3y", protected: true } });
  await call(target, "POST", `/projects/${target.projectId}/variables`, { body: { key: "PLAIN_SETTING", value: "p" } });
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** Runs one single-job pipeline on `ref` up to the point where the runner holds the job; returns its id and token. */
async function startJob(name: string, ref: string, fields: Record<string, unknown> = {}) {
  const made = (await control(target, "POST", "/pipelines", {
    ref,
    stages: ["observe"],
    jobs: [{ name, stage: "observe", tag_list: [TAG] }],
    ...fields,
  })) as { pipeline: { id: number }; jobs: Array<{ id: number }> };
  const reply = await call(target, "POST", "/jobs/request", {
    token: null,
    body: { token: fleetRunners[ref === "main" ? "protected" : "open"].token, info: { executor: "docker", config: { node: "pi1" } } },
  });
  expect(reply.status).toBe(201);
  const payload = reply.body as { id: number; token: string };
  expect(payload.id).toBe(made.jobs[0]?.id);
  return { pipelineId: made.pipeline.id, jobId: payload.id, jobToken: payload.token };
}

async function finish(jobId: number, exitCode = 0): Promise<void> {
  await until(async () => (started.some((r) => r.jobId === jobId) ? true : undefined));
  finishers.get(jobId)?.(exitCode);
  await until(async () => {
    const j = (await call(target, "GET", `/projects/${target.projectId}/jobs/${jobId}`)).body as { status: string };
    return ["success", "failed"].includes(j.status) ? j : undefined;
  });
}

const raw = (ref: string, path: string, job: string) => `/projects/${target.projectId}/jobs/artifacts/${ref}/raw/${path}?job=${job}`;

describe("artifacts by ref and job name, with a CI_JOB_TOKEN", () => {
  let observed: { pipelineId: number; jobId: number };

  beforeAll(async () => {
    const first = await startJob("fleet-observe", "main");
    await finish(first.jobId);
    observed = first;
  });

  it("a running job's token downloads the latest successful pipeline's file (JOB-TOKEN header and job_token param)", async () => {
    const planner = await startJob("runners-plan", `mr-${TAG}`, { source: "merge_request_event" });
    const byHeader = await call(target, "GET", raw("main", "observed.json", "fleet-observe"), {
      token: null,
      headers: { "JOB-TOKEN": planner.jobToken },
    });
    expect(byHeader.status).toBe(200);
    expect(byHeader.headers.get("content-disposition")).toBe('attachment; filename="observed.json"');
    expect(JSON.parse(String(byHeader.body))).toEqual({ job: "fleet-observe", pipeline: observed.pipelineId });
    const byParam = await call(target, "GET", `${raw("main", "reports/note.txt", "fleet-observe")}&job_token=${planner.jobToken}`, {
      token: null,
    });
    expect(byParam).toMatchObject({ status: 200, body: "from fleet-observe\n" });
    const archive = await fetch(`${target.url}/api/v4/projects/${target.projectId}/jobs/artifacts/main/download?job=fleet-observe`, {
      headers: { "JOB-TOKEN": planner.jobToken },
    });
    expect(archive.status).toBe(200);
    const zip = join(work, "by-ref.zip");
    await writeFile(zip, Buffer.from(await archive.arrayBuffer()));
    expect((await run("unzip", ["-Z1", zip], { describe: "unzip -Z1" })).stdout.trim().split("\n").sort()).toEqual([
      "observed.json",
      "reports/note.txt",
    ]);

    // The token ends with its job: 401 afterwards, as GitLab's job tokens do.
    await finish(planner.jobId);
    const after = await call(target, "GET", raw("main", "observed.json", "fleet-observe"), {
      token: null,
      headers: { "JOB-TOKEN": planner.jobToken },
    });
    expect(after).toMatchObject({ status: 401, body: { message: "401 Unauthorized" } });
  });

  it("python-gitlab 3.12 downloads it with a job token (Gitlab(job_token=…), project.artifacts.raw)", async () => {
    const planner = await startJob("app-plan", `py-${TAG}`);
    const result = await pythonGitlab(
      `
import os, json, gitlab
gl = gitlab.Gitlab(os.environ["GL_URL"], job_token=os.environ["GL_JOB_TOKEN"])
project = gl.projects.get(int(os.environ["GL_PROJECT"]), lazy=True)
print(json.loads(project.artifacts.raw("main", "observed.json", "fleet-observe"))["job"])
`,
      { GL_URL: target.url, GL_JOB_TOKEN: planner.jobToken, GL_PROJECT: String(target.projectId) },
    );
    await finish(planner.jobId);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim()).toBe("fleet-observe");
  });

  it("the newest successful pipeline of the ref wins; a failed one is passed over", async () => {
    const newer = await startJob("fleet-observe", "main");
    await finish(newer.jobId);
    const failed = await startJob("fleet-observe", "main");
    await finish(failed.jobId, 1);
    const reply = await call(target, "GET", raw("main", "observed.json", "fleet-observe"));
    expect(JSON.parse(String(reply.body))).toMatchObject({ pipeline: newer.pipelineId });
  });

  it("a Reporter project access token downloads too; a Guest gets 403, no token 404, a wrong token 401", async () => {
    const mint = async (access_level: number) =>
      (
        (
          await call(target, "POST", `/projects/${target.projectId}/access_tokens`, {
            body: { name: `artifacts-${access_level}`, scopes: ["read_api"], access_level },
          })
        ).body as { token: string }
      ).token;
    expect((await call(target, "GET", raw("main", "observed.json", "fleet-observe"), { token: await mint(20) })).status).toBe(200);
    expect(await call(target, "GET", raw("main", "observed.json", "fleet-observe"), { token: await mint(10) })).toMatchObject({
      status: 403,
      body: { message: "403 Forbidden" },
    });
    expect(await call(target, "GET", raw("main", "observed.json", "fleet-observe"), { token: null })).toMatchObject({
      status: 404,
      body: { message: "404 Project Not Found" },
    });
    expect((await call(target, "GET", raw("main", "observed.json", "fleet-observe"), { token: "glpat-wrong" })).status).toBe(401);
  });

  it("a job token carries its pipeline user's role: a Guest's pipeline cannot download", async () => {
    const guest = (await control(target, "POST", "/tokens", { scopes: ["api"], access_level: 10 })) as { user_id: number };
    const job = await startJob("guest-job", `guest-${TAG}`, { user_id: guest.user_id });
    const reply = await call(target, "GET", raw("main", "observed.json", "fleet-observe"), {
      token: null,
      headers: { "JOB-TOKEN": job.jobToken },
    });
    expect(reply).toMatchObject({ status: 403, body: { message: "403 Forbidden" } });
    await finish(job.jobId);
  });

  it("answers 404 for an unknown job name, ref or file, 400 for a path that climbs out", async () => {
    expect((await call(target, "GET", raw("main", "observed.json", "no-such-job"))).status).toBe(404);
    expect((await call(target, "GET", raw("no-such-ref", "observed.json", "fleet-observe"))).status).toBe(404);
    expect((await call(target, "GET", raw("main", "missing.json", "fleet-observe"))).status).toBe(404);
    expect((await call(target, "GET", raw("main", "reports/..%2F..%2Fetc%2Fpasswd", "fleet-observe"))).status).toBe(400);
  });

  it("by job id: the archive and one file; a job without artifacts is 404", async () => {
    const base = `/projects/${target.projectId}/jobs/${observed.jobId}/artifacts`;
    const archive = await fetch(`${target.url}/api/v4${base}`, { headers: { "PRIVATE-TOKEN": target.token } });
    expect(archive.status).toBe(200);
    expect(archive.headers.get("content-disposition")).toBe('attachment; filename="artifacts.zip"');
    const file = await call(target, "GET", `${base}/reports/note.txt`);
    expect(file).toMatchObject({ status: 200, body: "from fleet-observe\n" });
    const made = (await control(target, "POST", "/pipelines", { jobs: [{ name: "bare", status: "success" }] })) as {
      jobs: Array<{ id: number }>;
    };
    expect((await call(target, "GET", `/projects/${target.projectId}/jobs/${made.jobs[0]?.id}/artifacts`)).status).toBe(404);
  });
});

describe("git over HTTP with a CI_JOB_TOKEN (user gitlab-ci-token)", () => {
  it("clones while the job runs, never pushes, and is refused once the job ended", async () => {
    const client = new GitClient(target, projectPathOf(target));
    try {
      const seed = await client.clone();
      await client.commit(seed.dir, "seed.txt", "seed\n", "seed");
      await client.must(seed.dir, ["push", "--quiet", "origin", "HEAD:main"]);
      const job = await startJob("clone-job", `clone-${TAG}`);
      const cloned = await client.clone(job.jobToken, "gitlab-ci-token");
      expect(cloned.result.code, cloned.result.stderr).toBe(0);
      await client.commit(cloned.dir, "by-job.txt", "x\n", "a job's commit");
      const push = await client.git(cloned.dir, ["push", "origin", `HEAD:job-${TAG}`], job.jobToken, "gitlab-ci-token");
      expect(push.code).not.toBe(0);
      expect(push.stderr).toMatch(/403/);
      await finish(job.jobId);
      expect((await client.clone(job.jobToken, "gitlab-ci-token")).result.code).not.toBe(0);
    } finally {
      client.cleanup();
    }
  });
});

describe("the control API's payload record", () => {
  type Payload = {
    variable_keys: string[];
    project_variable_keys: string[];
    protected_variable_keys: string[];
    protected_ref: boolean;
    runner: { id: number; protected: boolean; access_level: string };
  };

  it("records each job's variable keys (never values), the ref's protection and the runner", async () => {
    const onMain = await startJob("deploy", "main");
    const onBranch = await startJob("plan", `feature-${TAG}`);
    await finish(onMain.jobId);
    await finish(onBranch.jobId);
    const records = (await control(target, "GET", `/pipelines/${onBranch.pipelineId}/payloads`)) as Array<{
      job_id: number;
      name: string;
      payload: Payload;
    }>;
    expect(records).toEqual([{ job_id: onBranch.jobId, name: "plan", stage: "observe", status: "success", payload: expect.any(Object) }]);
    const branch = records[0]?.payload as Payload;
    expect(branch).toMatchObject({
      protected_ref: false,
      protected_variable_keys: [],
      runner: { id: fleetRunners.open.id, protected: false },
    });
    expect(branch.project_variable_keys).toContain("PLAIN_SETTING");
    expect(branch.variable_keys).toEqual(expect.arrayContaining(["CI_JOB_TOKEN", "PLAIN_SETTING"]));
    expect(branch.variable_keys).not.toContain(SECRET_KEY);

    const main = ((await control(target, "GET", `/jobs/${onMain.jobId}`)) as { payload: Payload }).payload;
    expect(main).toMatchObject({
      protected_ref: true,
      protected_variable_keys: [SECRET_KEY],
      runner: { id: fleetRunners.protected.id, protected: true, access_level: "ref_protected" },
    });
    // Keys only: no value of any variable, not the job token.
    const text = JSON.stringify(records) + JSON.stringify(main);
    expect(text).not.toContain("k3y");
    expect(text).not.toContain(onBranch.jobToken);
  });
});
