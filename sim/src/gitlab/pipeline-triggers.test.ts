import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { controlHeaders } from "./control-secret.js";
import { type GitlabEmulator, startGitlabEmulator } from "./index.js";
import { skipCi } from "./pipeline-triggers.js";
import { GitClient } from "./test-support/git-client.js";
import type { Target } from "./test-support/target.js";

// One real run: a .gitlab-ci.yml pushed with git is evaluated by gitlab-ci-local into the pipeline GitLab would create.
const CI_YAML = `workflow:
  rules:
    - if: $CI_COMMIT_TAG =~ /^skip-/
      when: never
    - when: always
stages: [build, deploy]
build:
  stage: build
  tags: [pi]
  script: [echo build]
deploy:
  stage: deploy
  tags: [pi, deploy]
  rules:
    - if: $CI_PIPELINE_SOURCE == "push" && $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH
  script: [echo deploy]
plan:
  stage: build
  rules:
    - if: $CI_PIPELINE_SOURCE == "merge_request_event"
  script: [echo plan]
`;

let gl: GitlabEmulator | undefined;
let client: GitClient | undefined;
afterEach(async () => {
  client?.cleanup();
  await gl?.close();
  gl = undefined;
}, 60_000);

async function api<T>(path: string, init?: RequestInit): Promise<T> {
  if (!gl) throw new Error("no emulator");
  const res = await fetch(`${gl.url}/api/v4${path}`, {
    ...init,
    headers: { "PRIVATE-TOKEN": gl.adminToken, "Content-Type": "application/json" },
  });
  expect(res.ok).toBe(true);
  return (await res.json()) as T;
}

interface Pipeline {
  id: number;
  ref: string;
  sha: string;
  source: string;
  status: string;
}
interface Job {
  name: string;
  stage: string;
  status: string;
  tag_list: string[];
}

describe("pipeline triggers", () => {
  it("a push to the default branch and an opened MR create GitLab's pipelines, evaluated by gitlab-ci-local", async () => {
    gl = await startGitlabEmulator({ host: "127.0.0.1", port: 0 });
    const target: Target = { ...gl, token: gl.adminToken, mrIid: 1, real: false };
    client = new GitClient(target, "pifleet/infra");
    const { dir } = await client.clone();
    const sha = await client.commit(dir, ".gitlab-ci.yml", CI_YAML, "ci");
    await client.must(dir, ["push", "--quiet", "origin", "HEAD:main"]);
    await gl.pipelinesSettled();

    const [push] = await api<Pipeline[]>(`/projects/${gl.projectId}/pipelines`);
    expect(push).toMatchObject({ ref: "main", sha, source: "push", status: "pending" });
    const jobs = await api<Job[]>(`/projects/${gl.projectId}/pipelines/${push?.id}/jobs`);
    expect(jobs.map((j) => [j.name, j.stage, j.status, j.tag_list]).sort()).toEqual([
      ["build", "build", "pending", ["pi"]],
      ["deploy", "deploy", "created", ["pi", "deploy"]],
    ]);
    // No runner serves the project: the pending job says it is stuck, as GitLab's job page does.
    const buildId = (jobs as (Job & { id: number })[]).find((j) => j.name === "build")?.id;
    const trace = await fetch(`${gl.url}/api/v4/projects/${gl.projectId}/jobs/${buildId}/trace`, {
      headers: { "PRIVATE-TOKEN": gl.adminToken },
    });
    expect(await trace.text()).toContain("This job is stuck");
    const view = (await (await fetch(`${gl.url}/-/sim/jobs/${buildId}`, { headers: controlHeaders(gl.controlSecret) })).json()) as {
      stuck_reason: string | null;
    };
    expect(view.stuck_reason).toMatch(/^This job is stuck because the project doesn't have any runners online/);

    await client.commit(dir, "b.txt", "b\n", "branch");
    await client.must(dir, ["push", "--quiet", "origin", "HEAD:feature"]);
    const mr = await api<{ iid: number }>(`/projects/${gl.projectId}/merge_requests`, {
      method: "POST",
      body: JSON.stringify({ title: "feature", source_branch: "feature", target_branch: "main" }),
    });
    await gl.pipelinesSettled();
    const all = await api<Pipeline[]>(`/projects/${gl.projectId}/pipelines`);
    const mrPipeline = all.find((p) => p.source === "merge_request_event");
    expect(mrPipeline?.ref).toMatch(/^refs\/merge-requests\/\d+\/head$/);
    const mrJobs = await api<Job[]>(`/projects/${gl.projectId}/pipelines/${mrPipeline?.id}/jobs`);
    expect(mrJobs.map((j) => j.name).sort()).toEqual(["build", "plan"]);
    // The branch push made its own push pipeline, without the default-branch-only deploy.
    const branch = all.find((p) => p.ref === "feature");
    const branchJobs = await api<Job[]>(`/projects/${gl.projectId}/pipelines/${branch?.id}/jobs`);
    expect(branchJobs.map((j) => j.name)).toEqual(["build"]);

    // Merging is a push to the default branch: its merge commit gets a push pipeline with deploy.
    const merged = await api<{ merge_commit_sha: string }>(`/projects/${gl.projectId}/merge_requests/${mr.iid}/merge`, { method: "PUT" });
    await gl.pipelinesSettled();
    const [onMain] = await api<Pipeline[]>(`/projects/${gl.projectId}/pipelines?ref=main`);
    expect(onMain).toMatchObject({ sha: merged.merge_commit_sha, source: "push" });
    const mainJobs = await api<Job[]>(`/projects/${gl.projectId}/pipelines/${onMain?.id}/jobs`);
    expect(mainJobs.map((j) => j.name).sort()).toEqual(["build", "deploy"]);

    // workflow:rules that match nothing: GitLab creates no pipeline; another tag gets one.
    await client.must(dir, ["tag", "skip-1"]);
    await client.must(dir, ["tag", "v1"]);
    await client.must(dir, ["push", "--quiet", "origin", "skip-1", "v1"]);
    await gl.pipelinesSettled();
    // (The list shows no tag flag, as GitLab's does not: the refs tell.)
    const refs = (await api<Pipeline[]>(`/projects/${gl.projectId}/pipelines`)).map((p) => p.ref);
    expect(refs).toContain("v1");
    expect(refs).not.toContain("skip-1");

    // Invalid YAML: a failed pipeline with yaml_errors, as GitLab shows it.
    await client.commit(dir, ".gitlab-ci.yml", "a: [\n", "broken");
    await client.must(dir, ["push", "--quiet", "origin", "HEAD:broken"]);
    await gl.pipelinesSettled();
    const [failed] = await api<Pipeline[]>(`/projects/${gl.projectId}/pipelines?ref=broken`);
    const detail = await api<Pipeline & { yaml_errors: string | null }>(`/projects/${gl.projectId}/pipelines/${failed?.id}`);
    expect(detail.status).toBe("failed");
    expect(detail.yaml_errors).toMatch(/flow collection/);
    expect((await api<Pipeline[]>(`/projects/${gl.projectId}/pipelines?yaml_errors=true`)).map((p) => p.id)).toEqual([failed?.id]);
  }, 240_000); // gitlab-ci-local evaluations: ~10 s each here, minutes inside a loaded 1-GiB pipeline job
});

// rules:changes as GitLab judges it: against the push's before-sha (a new branch: every rule matches).
const CHANGES_YAML = `code:
  script: [echo code]
  rules:
    - changes: [src/**]
always:
  script: [echo always]
`;

describe("skipCi", () => {
  it("[skip ci] or [ci skip] anywhere in the message, any case", () => {
    expect(skipCi("docs only [skip ci]")).toBe(true);
    expect(skipCi("[CI SKIP] wip\n\nbody")).toBe(true);
    expect(skipCi("skip ci")).toBe(false);
  });
});

describe("pipeline triggers: rules:changes and [skip ci]", () => {
  it("compares changes with the push's before-sha; a [skip ci] push makes a skipped pipeline without jobs", async () => {
    gl = await startGitlabEmulator({ host: "127.0.0.1", port: 0 });
    const target: Target = { ...gl, token: gl.adminToken, mrIid: 1, real: false };
    client = new GitClient(target, "pifleet/infra");
    const { dir } = await client.clone();
    const jobsOf = async (sha: string) => {
      await gl?.pipelinesSettled();
      const [p] = await api<Pipeline[]>(`/projects/${gl?.projectId}/pipelines?sha=${sha}`);
      const jobs = await api<Job[]>(`/projects/${gl?.projectId}/pipelines/${p?.id}/jobs`);
      return { pipeline: p, names: jobs.map((j) => j.name).sort() };
    };
    // The branch's first push: no base, every changes rule matches.
    const first = await client.commit(dir, ".gitlab-ci.yml", CHANGES_YAML, "ci");
    await client.must(dir, ["push", "--quiet", "origin", "HEAD:main"]);
    expect((await jobsOf(first)).names).toEqual(["always", "code"]);
    const docs = await client.commit(dir, "README.md", "docs\n", "docs");
    await client.must(dir, ["push", "--quiet", "origin", "HEAD:main"]);
    expect((await jobsOf(docs)).names).toEqual(["always"]);
    mkdirSync(join(dir, "src"));
    await client.commit(dir, "src/a.txt", "code\n", "code");
    const notes = await client.commit(dir, "notes.txt", "x\n", "not under src/");
    await client.must(dir, ["push", "--quiet", "origin", "HEAD:main"]);
    // One push of two commits: changes are judged over both (before-sha..head), not the head commit alone.
    expect((await jobsOf(notes)).names).toEqual(["always", "code"]);
    const skipped = await client.commit(dir, "src/b.txt", "more\n", "more code [skip ci]");
    await client.must(dir, ["push", "--quiet", "origin", "HEAD:main"]);
    const result = await jobsOf(skipped);
    expect(result.pipeline?.status).toBe("skipped");
    expect(result.names).toEqual([]);
  }, 240_000); // gitlab-ci-local evaluations: ~10 s each here, minutes inside a loaded 1-GiB pipeline job
});
