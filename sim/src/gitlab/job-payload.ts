import type { JobPayloadRecord, SimCiJob, SimPipeline, SimVariable } from "./ci-state.js";
import { variablesForJob } from "./job-variables.js";
import type { SimRunner } from "./state.js";

/**
 * What a runner gets for a job it took (POST /jobs/request → 201), pure: the job's variables as
 * GitLab hands them over (predefined, then project variables) and the payload in GitLab's shape
 * (lib/api/entities/ci/job_request/response.rb and its parts).
 */

/** One entry of the payload's `variables` (Ci::Build#runner_variables). */
export interface RunnerVariable {
  key: string;
  value: string;
  /** Predefined variables are public; project variables are not. */
  public: boolean;
  file: boolean;
  masked: boolean;
}

export interface JobFacts {
  job: SimCiJob;
  pipeline: SimPipeline;
  runner: SimRunner;
  /** The emulator's URL (no /api/v4). */
  baseUrl: string;
  /** namespace/project. */
  projectPath: string;
  projectName: string;
  /** The job's CI_JOB_TOKEN, valid while it runs. */
  token: string;
  projectVariables: readonly SimVariable[];
  timeoutSeconds: number;
  /** The user who started the pipeline. */
  user: { id: number; username: string; name: string; email: string } | undefined;
}

/** The pipeline's ref is protected: in the sim, the default branch (never a tag or an MR ref). */
export function isProtectedRef(pipeline: SimPipeline, defaultBranch: string): boolean {
  if (pipeline.variables?.CI_COMMIT_REF_PROTECTED !== undefined) return pipeline.variables.CI_COMMIT_REF_PROTECTED === "true";
  return !pipeline.tag && pipeline.ref === defaultBranch;
}

/** GitLab's job-level predefined variables (docs: ci/variables/predefined_variables), on top of the pipeline's. */
function predefinedForJob(f: JobFacts): Record<string, string> {
  const { job, pipeline, runner } = f;
  const url = new URL(f.baseUrl);
  const projectUrl = `${f.baseUrl}/${f.projectPath}`;
  const v: Record<string, string> = {
    ...(pipeline.variables ?? {}),
    CI_API_V4_URL: `${f.baseUrl}/api/v4`,
    CI_SERVER_HOST: url.hostname,
    CI_SERVER_PORT: url.port || (url.protocol === "https:" ? "443" : "80"),
    CI_SERVER_PROTOCOL: url.protocol.replace(":", ""),
    CI_PROJECT_URL: projectUrl,
    CI_PROJECT_NAMESPACE: f.projectPath.split("/").slice(0, -1).join("/"),
    CI_PIPELINE_ID: String(pipeline.id),
    CI_PIPELINE_IID: String(pipeline.iid),
    CI_PIPELINE_URL: `${projectUrl}/-/pipelines/${pipeline.id}`,
    CI_PIPELINE_CREATED_AT: pipeline.created_at.replace(/\.\d+Z$/, "Z"),
    CI_JOB_ID: String(job.id),
    CI_JOB_NAME: job.name,
    CI_JOB_NAME_SLUG: job.name
      .toLowerCase()
      .replace(/[^a-z0-9]/g, "-")
      .slice(0, 63)
      .replace(/^-+|-+$/g, ""),
    CI_JOB_STAGE: job.stage,
    CI_JOB_URL: `${projectUrl}/-/jobs/${job.id}`,
    CI_JOB_TIMEOUT: String(f.timeoutSeconds),
    CI_RUNNER_ID: String(runner.id),
    CI_RUNNER_DESCRIPTION: runner.description,
    CI_RUNNER_TAGS: JSON.stringify(runner.tag_list),
  };
  if (job.started_at) v.CI_JOB_STARTED_AT = job.started_at.replace(/\.\d+Z$/, "Z");
  if (job.environment) v.CI_ENVIRONMENT_NAME = job.environment;
  if (f.user) {
    v.GITLAB_USER_ID = String(f.user.id);
    v.GITLAB_USER_LOGIN = f.user.username;
    v.GITLAB_USER_NAME = f.user.name;
    v.GITLAB_USER_EMAIL = f.user.email;
  }
  return v;
}

/**
 * Every variable of the job, as the runner receives them: predefined ones (public), CI_JOB_TOKEN
 * (masked), then the project's CI/CD variables for this ref and environment (variablesForJob),
 * which win over a predefined one of the same key as in GitLab's precedence.
 */
export function jobVariables(f: JobFacts, defaultBranch: string): RunnerVariable[] {
  const predefined = Object.entries(predefinedForJob(f)).map(
    ([key, value]): RunnerVariable => ({ key, value, public: true, file: false, masked: false }),
  );
  const token: RunnerVariable = { key: "CI_JOB_TOKEN", value: f.token, public: false, file: false, masked: true };
  const project = variablesForJob(f.projectVariables, {
    protectedRef: isProtectedRef(f.pipeline, defaultBranch),
    environment: f.job.environment ?? undefined,
  }).map((v): RunnerVariable => ({ key: v.key, value: v.value, public: false, file: v.file, masked: v.masked }));
  const keys = new Set(project.map((v) => v.key));
  return [...predefined.filter((v) => !keys.has(v.key)), token, ...project];
}

/** The keys-only record of a payload (ci-state.ts JobPayloadRecord), from the same facts the payload came from. */
export function payloadRecord(f: JobFacts, variables: readonly RunnerVariable[], defaultBranch: string, at: Date): JobPayloadRecord {
  const protectedRef = isProtectedRef(f.pipeline, defaultBranch);
  const project = variablesForJob(f.projectVariables, { protectedRef, environment: f.job.environment ?? undefined });
  return {
    variable_keys: variables.map((v) => v.key),
    project_variable_keys: project.map((v) => v.key),
    protected_variable_keys: project.filter((v) => v.protected).map((v) => v.key),
    protected_ref: protectedRef,
    environment: f.job.environment ?? null,
    runner: {
      id: f.runner.id,
      description: f.runner.description,
      access_level: f.runner.access_level,
      protected: f.runner.access_level === "ref_protected",
    },
    recorded_at: at.toISOString(),
  };
}

const list = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : typeof value === "string" ? [value] : []);

/** The image entity ({name, entrypoint, ports}) from `image:` (a string or a hash), or null. */
function imageOf(value: unknown): { name: string; entrypoint: string[] | null; ports: [] } | null {
  if (typeof value === "string") return { name: value, entrypoint: null, ports: [] };
  if (value && typeof value === "object" && typeof (value as { name?: unknown }).name === "string") {
    const image = value as { name: string; entrypoint?: unknown };
    return { name: image.name, entrypoint: image.entrypoint === undefined ? null : list(image.entrypoint), ports: [] };
  }
  return null;
}

/**
 * The job payload (Entities::Ci::JobRequest::Response), filled from what the emulator knows: the
 * expanded job configuration gives steps, image, services, artifacts and cache; dependencies name
 * the jobs whose artifacts it gets (no artifact files: gitlab-ci-local moves artifacts itself).
 */
export function jobPayload(f: JobFacts, variables: readonly RunnerVariable[], dependencies: readonly SimCiJob[]) {
  const { job, pipeline } = f;
  const config = job.config ?? {};
  const repoUrl = new URL(`${f.baseUrl}/${f.projectPath}.git`);
  repoUrl.username = "gitlab-ci-token";
  repoUrl.password = f.token;
  const artifacts = config.artifacts as
    | { name?: string; paths?: unknown; when?: string; expire_in?: string; untracked?: boolean }
    | undefined;
  const cache = (Array.isArray(config.cache) ? config.cache : config.cache ? [config.cache] : []) as Array<Record<string, unknown>>;
  const isMr = pipeline.source === "merge_request_event";
  return {
    id: job.id,
    token: f.token,
    allow_git_fetch: true,
    job_info: {
      id: job.id,
      name: job.name,
      stage: job.stage,
      project_id: job.project_id,
      project_name: f.projectName,
      time_in_queue_seconds: job.queued_at && job.started_at ? (Date.parse(job.started_at) - Date.parse(job.queued_at)) / 1000 : 0,
    },
    git_info: {
      repo_url: repoUrl.toString(),
      ref: pipeline.ref,
      sha: pipeline.sha,
      before_sha: pipeline.before_sha,
      ref_type: pipeline.tag ? "tag" : "branch",
      refspecs: isMr
        ? [`+${pipeline.sha}:${pipeline.ref}`]
        : [`+refs/${pipeline.tag ? "tags" : "heads"}/${pipeline.ref}:refs/remotes/origin/${pipeline.ref}`],
      depth: 20,
    },
    runner_info: { timeout: f.timeoutSeconds, runner_session_url: null },
    variables,
    steps: [
      {
        name: "script",
        script: [...list(config.before_script), ...list(config.script)],
        timeout: f.timeoutSeconds,
        when: "on_success",
        allow_failure: false,
      },
      ...(config.after_script
        ? [{ name: "after_script", script: list(config.after_script), timeout: f.timeoutSeconds, when: "always", allow_failure: true }]
        : []),
    ],
    hooks: [],
    image: imageOf(config.image),
    services: (Array.isArray(config.services) ? config.services : []).flatMap((s) => {
      const image = imageOf(s);
      return image ? [{ ...image, alias: null, command: null }] : [];
    }),
    artifacts: artifacts
      ? [
          {
            name: artifacts.name ?? "artifacts",
            untracked: artifacts.untracked ?? false,
            paths: list(artifacts.paths),
            when: artifacts.when ?? "on_success",
            expire_in: artifacts.expire_in ?? null,
            artifact_type: "archive",
            artifact_format: "zip",
          },
        ]
      : [],
    cache: cache.map((c) => ({
      key: typeof c.key === "string" ? c.key : "default",
      untracked: c.untracked === true,
      paths: list(c.paths),
      policy: typeof c.policy === "string" ? c.policy : "pull-push",
      when: typeof c.when === "string" ? c.when : "on_success",
    })),
    credentials: [],
    features: { trace_sections: true, failure_reasons: ["script_failure", "job_execution_timeout", "runner_system_failure"] },
    dependencies: dependencies.map((d) => ({ id: d.id, name: d.name, token: f.token, artifacts_file: null })),
  };
}
