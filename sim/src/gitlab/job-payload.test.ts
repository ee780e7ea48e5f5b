import { describe, expect, it } from "vitest";
import { outcome } from "./ci-engine.js";
import type { SimCiJob, SimPipeline, SimVariable } from "./ci-state.js";
import { isProtectedRef, type JobFacts, jobPayload, jobVariables } from "./job-payload.js";
import type { SimRunner } from "./state.js";
import { simVariable } from "./test-support/variables.js";

const AT = "2026-01-02T03:04:05.678Z";

const variable = (key: string, value: string, fields: Partial<SimVariable> = {}) => simVariable(key, { value, ...fields });

const pipeline = (fields: Partial<SimPipeline> = {}): SimPipeline => ({
  id: 7,
  iid: 3,
  project_id: 1,
  sha: "a".repeat(40),
  before_sha: "b".repeat(40),
  ref: "main",
  tag: false,
  source: "push",
  user_id: 1,
  created_at: AT,
  updated_at: AT,
  stages: ["build"],
  variables: { CI_PIPELINE_SOURCE: "push", CI_COMMIT_REF_PROTECTED: "true", CI_COMMIT_BRANCH: "main" },
  changes_base: "b".repeat(40),
  ...fields,
});

const job: SimCiJob = {
  id: 11,
  pipeline_id: 7,
  project_id: 1,
  name: "deploy",
  stage: "deploy",
  status: "running",
  tag_list: ["deploy"],
  allow_failure: false,
  runner_id: 4,
  system_id: "s_1",
  failure_reason: null,
  created_at: AT,
  queued_at: AT,
  started_at: AT,
  finished_at: null,
  trace: "",
  environment: "production",
  config: { image: { name: "reg/pifleet:abc", entrypoint: [""] }, script: ["pifleet app deploy"], artifacts: { paths: ["images.json"] } },
};

const runner = { id: 4, description: "pifleet pi1 deploy", tag_list: ["deploy", "pifleet"] } as SimRunner;

function facts(fields: Partial<JobFacts> = {}): JobFacts {
  return {
    job,
    pipeline: pipeline(),
    runner,
    baseUrl: "http://198.19.255.1:41000",
    projectPath: "pifleet/infra",
    projectName: "infra",
    token: "glcbt-token",
    projectVariables: [
      variable("SSH_KEY", "key-material", { variable_type: "file", protected: true }),
      variable("PLAN_TOKEN", "plan-token-1", { masked: true }),
      variable("CI_PIPELINE_SOURCE", "overridden"),
      variable("REGION", "everywhere"),
      variable("REGION", "prod-only", { environment_scope: "prod*" }),
    ],
    timeoutSeconds: 1800,
    user: { id: 1, username: "root", name: "Administrator", email: "admin@example.com" },
    ...fields,
  };
}

const byKey = (vars: ReturnType<typeof jobVariables>) => new Map(vars.map((v) => [v.key, v]));

describe("jobVariables", () => {
  it("predefined variables of the pipeline and the job, public; the job token masked", () => {
    const vars = byKey(jobVariables(facts(), "main"));
    expect(vars.get("CI_COMMIT_BRANCH")).toEqual({ key: "CI_COMMIT_BRANCH", value: "main", public: true, file: false, masked: false });
    expect(vars.get("CI_JOB_ID")?.value).toBe("11");
    expect(vars.get("CI_PIPELINE_IID")?.value).toBe("3");
    expect(vars.get("CI_JOB_URL")?.value).toBe("http://198.19.255.1:41000/pifleet/infra/-/jobs/11");
    expect(vars.get("CI_API_V4_URL")?.value).toBe("http://198.19.255.1:41000/api/v4");
    expect(vars.get("CI_SERVER_PORT")?.value).toBe("41000");
    expect(vars.get("CI_RUNNER_TAGS")?.value).toBe('["deploy","pifleet"]');
    expect(vars.get("CI_JOB_TIMEOUT")?.value).toBe("1800");
    expect(vars.get("CI_JOB_STARTED_AT")?.value).toBe("2026-01-02T03:04:05Z");
    expect(vars.get("CI_ENVIRONMENT_NAME")?.value).toBe("production");
    expect(vars.get("CI_JOB_TOKEN")).toEqual({ key: "CI_JOB_TOKEN", value: "glcbt-token", public: false, file: false, masked: true });
  });

  it("project variables win over predefined ones, keep file and masked, and follow the environment's scope", () => {
    const vars = byKey(jobVariables(facts(), "main"));
    expect(vars.get("CI_PIPELINE_SOURCE")).toMatchObject({ value: "overridden", public: false });
    expect(vars.get("SSH_KEY")).toMatchObject({ value: "key-material", file: true, public: false });
    expect(vars.get("PLAN_TOKEN")).toMatchObject({ masked: true });
    expect(vars.get("REGION")?.value).toBe("prod-only");
    expect(jobVariables(facts(), "main").filter((v) => v.key === "CI_PIPELINE_SOURCE")).toHaveLength(1);
  });

  it("protected variables only on a protected ref: none in a merge-request pipeline", () => {
    const mr = pipeline({
      ref: "refs/merge-requests/2/head",
      source: "merge_request_event",
      variables: { CI_PIPELINE_SOURCE: "merge_request_event", CI_COMMIT_REF_PROTECTED: "false" },
    });
    const vars = byKey(jobVariables(facts({ pipeline: mr }), "main"));
    expect(vars.has("SSH_KEY")).toBe(false);
    expect(vars.has("PLAN_TOKEN")).toBe(true);
  });
});

describe("isProtectedRef", () => {
  it("reads the pipeline's CI_COMMIT_REF_PROTECTED, else the default branch (never a tag)", () => {
    expect(isProtectedRef(pipeline(), "main")).toBe(true);
    expect(isProtectedRef(pipeline({ variables: undefined, ref: "main" }), "main")).toBe(true);
    expect(isProtectedRef(pipeline({ variables: undefined, ref: "main", tag: true }), "main")).toBe(false);
    expect(isProtectedRef(pipeline({ variables: undefined, ref: "feature" }), "main")).toBe(false);
  });
});

describe("jobPayload", () => {
  it("fills git_info, steps, image and artifacts from the pipeline and the expanded job", () => {
    const payload = jobPayload(facts(), [], []);
    expect(payload.git_info).toEqual({
      repo_url: "http://gitlab-ci-token:glcbt-token@198.19.255.1:41000/pifleet/infra.git",
      ref: "main",
      sha: "a".repeat(40),
      before_sha: "b".repeat(40),
      ref_type: "branch",
      refspecs: ["+refs/heads/main:refs/remotes/origin/main"],
      depth: 20,
    });
    expect(payload.steps).toEqual([
      { name: "script", script: ["pifleet app deploy"], timeout: 1800, when: "on_success", allow_failure: false },
    ]);
    expect(payload.image).toEqual({ name: "reg/pifleet:abc", entrypoint: [""], ports: [] });
    expect(payload.artifacts).toEqual([
      expect.objectContaining({ paths: ["images.json"], when: "on_success", artifact_type: "archive", artifact_format: "zip" }),
    ]);
    expect(payload.runner_info.timeout).toBe(1800);
  });

  it("an MR pipeline fetches its merge-request ref", () => {
    const mr = pipeline({ ref: "refs/merge-requests/2/head", source: "merge_request_event" });
    expect(jobPayload(facts({ pipeline: mr }), [], []).git_info.refspecs).toEqual([`+${"a".repeat(40)}:refs/merge-requests/2/head`]);
  });
});

describe("outcome", () => {
  it("maps how a run ended to GitLab's status and failure reason", () => {
    expect(outcome(undefined, { exitCode: 0 }, 1000)).toMatchObject({ status: "success" });
    expect(outcome(undefined, { exitCode: 2 }, 1000)).toMatchObject({ status: "failed", failure_reason: "script_failure" });
    // gitlab-ci-local exits 0 for a failed allow_failure job; the executor says it failed.
    expect(outcome(undefined, { exitCode: 0, status: "failed", failureReason: "script_failure" }, 1000)).toMatchObject({
      status: "failed",
    });
    expect(outcome("canceled", { exitCode: 137 }, 1000)).toEqual({ status: "canceled" });
    expect(outcome("timeout", { exitCode: 137 }, 90_000)).toMatchObject({
      status: "failed",
      failure_reason: "job_execution_timeout",
      append_trace: expect.stringContaining("longer than 90 seconds"),
    });
    expect(outcome(undefined, new Error("ssh: connect refused"), 1000)).toMatchObject({
      status: "failed",
      failure_reason: "runner_system_failure",
    });
  });
});
