import { randomBytes } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { call, control, mintToken, NEEDS_CONTROL, REAL_GITLAB, useContractTarget } from "./test-support/target.js";

// GitLab contract: pipelines and jobs, read side (doc/api/pipelines.md, doc/api/jobs.md), with
// GET /runners/:id/jobs and a runner's contact following the jobs it runs. Pipelines are made
// through the emulator's control API, so those tests are skipped on a real GitLab.
const { target, runners } = useContractTarget();
let base: string;
beforeAll(() => {
  base = `/projects/${target.projectId}`;
});

type Job = { id: number; name: string; status: string; stage: string };
type Created = { pipeline: { id: number; iid: number; sha: string }; jobs: Job[] };
const ref = () => `contract-${randomBytes(3).toString("hex")}`;

const newPipeline = (body: Record<string, unknown>) => control(target, "POST", "/pipelines", body) as Promise<Created>;
const moveJob = (id: number, body: Record<string, unknown>) => control(target, "PUT", `/jobs/${id}`, body) as Promise<Job>;

describe("pipelines and jobs on any GitLab", () => {
  it("lists pipelines with pagination headers; rejects bad filters (400); an unknown pipeline or job is 404 Not found", async () => {
    const list = await call(target, "GET", `${base}/pipelines?per_page=5`);
    expect(list.status).toBe(200);
    expect(Array.isArray(list.body)).toBe(true);
    expect(list.headers.get("x-per-page")).toBe("5");
    expect(await call(target, "GET", `${base}/pipelines?status=sleeping`)).toMatchObject({
      status: 400,
      body: { error: "status does not have a valid value" },
    });
    expect(await call(target, "GET", `${base}/pipelines?scope=everything`)).toMatchObject({
      status: 400,
      body: { error: "scope does not have a valid value" },
    });
    expect(await call(target, "GET", `${base}/pipelines?order_by=name`)).toMatchObject({
      status: 400,
      body: { error: "order_by does not have a valid value" },
    });
    expect(await call(target, "GET", `${base}/pipelines/999999999`)).toMatchObject({ status: 404, body: { message: "404 Not found" } });
    expect(await call(target, "GET", `${base}/pipelines/999999999/jobs`)).toMatchObject({ status: 404 });
    expect(await call(target, "GET", `${base}/jobs/999999999`)).toMatchObject({ status: 404, body: { message: "404 Not found" } });
    expect((await call(target, "GET", `${base}/jobs/999999999/trace`)).status).toBe(404);
    expect(await call(target, "GET", "/projects/999999999/pipelines")).toMatchObject({
      status: 404,
      body: { message: "404 Project Not Found" },
    });
  });
});

describe(`pipelines${NEEDS_CONTROL}`, () => {
  it.skipIf(REAL_GITLAB)("a pipeline's status follows its jobs; GET shows GitLab's fields, the list its basic ones", async () => {
    const branch = ref();
    const { pipeline, jobs } = await newPipeline({
      ref: branch,
      source: "push",
      jobs: [
        { name: "lint", stage: "verify" },
        { name: "deploy", stage: "deploy", tag_list: ["pifleet-deploy"] },
      ],
    });
    expect(pipeline).toMatchObject({
      ref: branch,
      status: "created",
      source: "push",
      tag: false,
      sha: expect.stringMatching(/^[0-9a-f]{40}$/),
    });
    const [lint, deploy] = jobs as [Job, Job];

    await moveJob(lint.id, { status: "pending" });
    expect((await call(target, "GET", `${base}/pipelines/${pipeline.id}`)).body).toMatchObject({ status: "pending" });
    await moveJob(lint.id, { status: "running" });
    const running = await call(target, "GET", `${base}/pipelines/${pipeline.id}`);
    expect(running.body).toMatchObject({ status: "running", started_at: expect.any(String), finished_at: null });
    await moveJob(lint.id, { status: "success" });
    await moveJob(deploy.id, { status: "running" });
    await moveJob(deploy.id, { status: "failed", failure_reason: "script_failure" });

    const shown = await call(target, "GET", `${base}/pipelines/${pipeline.id}`);
    expect(shown).toMatchObject({
      status: 200,
      body: {
        id: pipeline.id,
        iid: pipeline.iid,
        project_id: target.projectId,
        sha: pipeline.sha,
        ref: branch,
        status: "failed",
        source: "push",
        tag: false,
        before_sha: expect.any(String),
        yaml_errors: null,
        user: expect.objectContaining({ username: expect.any(String) }),
        created_at: expect.any(String),
        updated_at: expect.any(String),
        started_at: expect.any(String),
        finished_at: expect.any(String),
        duration: expect.any(Number),
        queued_duration: expect.any(Number),
        coverage: null,
        web_url: expect.stringMatching(new RegExp(`/-/pipelines/${pipeline.id}$`)),
        detailed_status: expect.objectContaining({ group: "failed", text: "Failed", label: "failed" }),
      },
    });

    const listed = (await call(target, "GET", `${base}/pipelines?ref=${branch}`)).body as Record<string, unknown>[];
    expect(listed).toHaveLength(1);
    expect(Object.keys(listed[0] ?? {}).sort()).toEqual(
      ["id", "iid", "project_id", "sha", "ref", "status", "source", "created_at", "updated_at", "web_url", "name"].sort(),
    );
  });

  it.skipIf(REAL_GITLAB)(
    "filters by ref, status, source and sha; orders by id (desc by default); scope=branches keeps the newest per branch",
    async () => {
      const branch = ref();
      const first = await newPipeline({ ref: branch, source: "push", jobs: [{ name: "a", status: "success" }] });
      const second = await newPipeline({ ref: branch, source: "merge_request_event", jobs: [{ name: "a", status: "running" }] });
      const third = await newPipeline({ ref: branch, source: "push", jobs: [{ name: "a", status: "failed" }] });
      const ids = async (query: string) =>
        ((await call(target, "GET", `${base}/pipelines?ref=${branch}&${query}`)).body as { id: number }[]).map((p) => p.id);

      expect(await ids("")).toEqual([third.pipeline.id, second.pipeline.id, first.pipeline.id]);
      expect(await ids("sort=asc")).toEqual([first.pipeline.id, second.pipeline.id, third.pipeline.id]);
      expect(await ids("status=running")).toEqual([second.pipeline.id]);
      expect(await ids("scope=finished")).toEqual([third.pipeline.id, first.pipeline.id]);
      expect(await ids("source=merge_request_event")).toEqual([second.pipeline.id]);
      expect(await ids(`sha=${first.pipeline.sha}`)).toEqual([first.pipeline.id]);
      expect(await ids("scope=branches")).toEqual([third.pipeline.id]);
      expect(await ids("yaml_errors=true")).toEqual([]);
      expect(await ids(`created_after=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).toEqual([]);
      expect(await ids("order_by=status&sort=asc")).toEqual([third.pipeline.id, second.pipeline.id, first.pipeline.id]);
      const paged = await call(target, "GET", `${base}/pipelines?ref=${branch}&per_page=2&page=2`);
      expect((paged.body as { id: number }[]).map((p) => p.id)).toEqual([first.pipeline.id]);
      expect(paged.headers.get("x-total")).toBe("3");
    },
  );

  it.skipIf(REAL_GITLAB)("a failed job that may fail leaves the pipeline passed", async () => {
    const { pipeline } = await newPipeline({
      ref: ref(),
      jobs: [
        { name: "build", status: "success" },
        { name: "flaky", status: "failed", allow_failure: true },
      ],
    });
    expect((await call(target, "GET", `${base}/pipelines/${pipeline.id}`)).body).toMatchObject({ status: "success" });
  });
});

describe(`jobs${NEEDS_CONTROL}`, () => {
  it.skipIf(REAL_GITLAB)(
    "a pipeline's jobs, newest first, filtered by scope[]; a job shows its runner, tags and failure_reason",
    async () => {
      const runner = await runners.group({ tag_list: ["pifleet-deploy"], description: "pi1 deploy" });
      const { pipeline, jobs } = await newPipeline({
        ref: ref(),
        jobs: [
          { name: "lint", stage: "verify", status: "success" },
          { name: "deploy", stage: "deploy", tag_list: ["pifleet-deploy"], status: "pending" },
        ],
      });
      const [lint, deploy] = jobs as [Job, Job];
      await moveJob(deploy.id, { runner_id: runner.id, system_id: "s_contract_pi1", status: "running" });
      await moveJob(deploy.id, { status: "failed", failure_reason: "runner_system_failure" });

      const all = await call(target, "GET", `${base}/pipelines/${pipeline.id}/jobs`);
      expect(all.status).toBe(200);
      expect((all.body as Job[]).map((j) => j.id)).toEqual([deploy.id, lint.id]);
      const failed = await call(target, "GET", `${base}/pipelines/${pipeline.id}/jobs?scope[]=failed&scope[]=running`);
      expect((failed.body as Job[]).map((j) => j.id)).toEqual([deploy.id]);
      const single = await call(target, "GET", `${base}/pipelines/${pipeline.id}/jobs?scope=success`);
      expect((single.body as Job[]).map((j) => j.id)).toEqual([lint.id]);
      expect(await call(target, "GET", `${base}/pipelines/${pipeline.id}/jobs?scope[]=asleep`)).toMatchObject({
        status: 400,
        body: { error: "scope does not have a valid value" },
      });

      const shown = await call(target, "GET", `${base}/jobs/${deploy.id}`);
      expect(shown).toMatchObject({
        status: 200,
        body: {
          id: deploy.id,
          name: "deploy",
          stage: "deploy",
          status: "failed",
          failure_reason: "runner_system_failure",
          tag: false,
          tag_list: ["pifleet-deploy"],
          allow_failure: false,
          started_at: expect.any(String),
          finished_at: expect.any(String),
          duration: expect.any(Number),
          queued_duration: expect.any(Number),
          pipeline: expect.objectContaining({ id: pipeline.id, project_id: target.projectId, status: "failed" }),
          runner: expect.objectContaining({ id: runner.id, description: "pi1 deploy" }),
          runner_manager: expect.objectContaining({ system_id: "s_contract_pi1" }),
          web_url: expect.stringMatching(new RegExp(`/-/jobs/${deploy.id}$`)),
        },
      });
      const lintShown = (await call(target, "GET", `${base}/jobs/${lint.id}`)).body as Record<string, unknown>;
      expect(lintShown).toMatchObject({ runner: null, status: "success" });
      expect(lintShown).not.toHaveProperty("failure_reason");
    },
  );

  it.skipIf(REAL_GITLAB)("the trace is text/plain, appended as a runner sends it, with masked variables as [MASKED]", async () => {
    const secret = `tok-${randomBytes(8).toString("hex")}`;
    const key = `CONTRACT_TRACE_${randomBytes(3).toString("hex").toUpperCase()}`;
    expect((await call(target, "POST", `${base}/variables`, { body: { key, value: secret, masked: true } })).status).toBe(201);
    const { jobs } = await newPipeline({ ref: ref(), jobs: [{ name: "deploy", status: "running", trace: "$ pifleet app deploy\n" }] });
    const [job] = jobs as [Job];
    await moveJob(job.id, { append_trace: `using token ${secret}\ndone\n`, status: "success" });

    const trace = await call(target, "GET", `${base}/jobs/${job.id}/trace`);
    expect(trace.status).toBe(200);
    expect(trace.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(trace.body).toBe("$ pifleet app deploy\nusing token [MASKED]\ndone\n");
    const empty = await newPipeline({ ref: ref(), jobs: [{ name: "later" }] });
    expect(await call(target, "GET", `${base}/jobs/${empty.jobs[0]?.id}/trace`)).toMatchObject({ status: 200, body: "" });
    await call(target, "DELETE", `${base}/variables/${key}`);
  });

  it.skipIf(REAL_GITLAB)("GET /runners/:id/jobs lists the jobs the runner took; its contacted_at follows them", async () => {
    const runner = await runners.group({ tag_list: ["pifleet-build"] });
    const before = (await call(target, "GET", `/runners/${runner.id}`)).body as { contacted_at: string | null; status: string };
    expect(before).toMatchObject({ contacted_at: null, status: "never_contacted" });

    const { jobs } = await newPipeline({
      ref: ref(),
      jobs: [
        { name: "build-amd64", tag_list: ["pifleet-build"], status: "pending" },
        { name: "build-arm64", tag_list: ["pifleet-build"], status: "pending" },
        { name: "other", status: "pending" },
      ],
    });
    const [amd, arm] = jobs as [Job, Job, Job];
    await moveJob(amd.id, { runner_id: runner.id, system_id: "s_contract_build", status: "running" });
    const taken = (await call(target, "GET", `/runners/${runner.id}`)).body as { contacted_at: string | null; status: string };
    expect(taken).toMatchObject({ contacted_at: expect.any(String), status: "online" });
    await moveJob(arm.id, { runner_id: runner.id, status: "running" });
    await moveJob(amd.id, { status: "success" });

    const listed = await call(target, "GET", `/runners/${runner.id}/jobs`);
    expect((listed.body as Job[]).map((j) => j.id)).toEqual([arm.id, amd.id]);
    expect((listed.body as object[])[0]).toMatchObject({ project: expect.objectContaining({ id: target.projectId }) });
    const running = await call(target, "GET", `/runners/${runner.id}/jobs?status=running`);
    expect((running.body as Job[]).map((j) => j.id)).toEqual([arm.id]);
    const managers = (await call(target, "GET", `/runners/${runner.id}/managers`)).body as { system_id: string }[];
    expect(managers.map((m) => m.system_id)).toContain("s_contract_build");
  });

  it.skipIf(REAL_GITLAB)(
    "a runner takes only jobs GitLab would give it: its tags, untagged only with run_untagged, not paused, protected refs for a protected runner",
    async () => {
      const tagged = await runners.group({ tag_list: ["pifleet-deploy"], run_untagged: false });
      const guarded = await runners.group({ tag_list: ["pifleet-deploy"], access_level: "ref_protected" });
      const paused = await runners.group({ tag_list: ["pifleet-deploy"], paused: true });
      const branch = ref();
      const { jobs } = await newPipeline({
        ref: branch,
        jobs: [
          { name: "build", tag_list: ["pifleet-build"], status: "pending" },
          { name: "untagged", status: "pending" },
          { name: "deploy", tag_list: ["pifleet-deploy"], status: "pending" },
        ],
      });
      const [build, untagged, deploy] = jobs as [Job, Job, Job];
      await expect(moveJob(build.id, { runner_id: tagged.id, status: "running" })).rejects.toThrow(
        /HTTP 400.*lacks the job's tags pifleet-build/,
      );
      await expect(moveJob(untagged.id, { runner_id: tagged.id, status: "running" })).rejects.toThrow(/HTTP 400.*untagged/);
      await expect(moveJob(deploy.id, { runner_id: paused.id, status: "running" })).rejects.toThrow(/HTTP 400.*paused/);
      await expect(moveJob(deploy.id, { runner_id: guarded.id, status: "running" })).rejects.toThrow(/HTTP 400.*protected/);
      await expect(
        newPipeline({ ref: branch, jobs: [{ name: "x", tag_list: ["other"], runner_id: tagged.id, status: "running" }] }),
      ).rejects.toThrow(/HTTP 400/);
      expect(((await call(target, "GET", `${base}/pipelines?ref=${branch}`)).body as object[]).length).toBe(1);
      expect(await moveJob(deploy.id, { runner_id: tagged.id, status: "running" })).toMatchObject({ status: "running" });
      const onMain = await newPipeline({
        ref: "main",
        jobs: [{ name: "deploy", tag_list: ["pifleet-deploy"], runner_id: guarded.id, status: "running" }],
      });
      expect(onMain.jobs[0]).toMatchObject({ status: "running", runner: expect.objectContaining({ id: guarded.id }) });
    },
  );

  it.skipIf(REAL_GITLAB)("needs a member: a non-member gets 404 Project Not Found on pipelines, jobs and traces", async () => {
    const { pipeline, jobs } = await newPipeline({ ref: ref(), jobs: [{ name: "x" }] });
    const outsider = await mintToken(target, ["api"], false);
    for (const path of [`${base}/pipelines`, `${base}/pipelines/${pipeline.id}`, `${base}/jobs/${jobs[0]?.id}/trace`]) {
      expect(await call(target, "GET", path, { token: outsider })).toMatchObject({
        status: 404,
        body: { message: "404 Project Not Found" },
      });
    }
  });
});
