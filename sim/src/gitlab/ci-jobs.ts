import {
  type CiStatus,
  COMPLETED_STATUSES,
  ciState,
  maskTrace,
  type PipelineSource,
  randomSha,
  type SchedulingFields,
  type SimCiJob,
  type SimPipeline,
} from "./ci-state.js";
import { recordContact } from "./contact.js";
import type { Emulator } from "./context.js";
import { paramError } from "./errors.js";
import { definedFields } from "./params.js";
import type { SimProject, SimRunner } from "./state.js";

/**
 * What happens to pipelines and jobs, as operations on the state. Today the control API calls
 * them; the pipeline engine (gitlab-ci-local driving the sim's runners) will call the same ones.
 */

export interface NewJob extends SchedulingFields {
  name: string;
  stage?: string;
  tag_list?: string[];
  allow_failure?: boolean;
  status?: CiStatus;
  runner_id?: number;
  system_id?: string;
  trace?: string;
}

export interface NewPipeline {
  project: SimProject;
  userId: number;
  ref?: string;
  sha?: string;
  /** The push's before-sha (40 zeros when none). */
  beforeSha?: string;
  changesBase?: string | null;
  tag?: boolean;
  source?: PipelineSource;
  /** Stages in order: the scheduler moves the jobs of pipelines that have them (ci-advance.ts). */
  stages?: string[];
  variables?: Record<string, string>;
  jobs: NewJob[];
}

/** Creates a pipeline with its jobs (each "created" unless told otherwise, then moved through updateJob). */
export function createPipeline(emu: Emulator, spec: NewPipeline): { pipeline: SimPipeline; jobs: SimCiJob[] } {
  const ci = ciState(emu.state);
  const at = emu.now().toISOString();
  const pipeline: SimPipeline = {
    id: ci.nextId.pipeline++,
    iid: Math.max(0, ...ci.pipelines.filter((p) => p.project_id === spec.project.id).map((p) => p.iid)) + 1,
    project_id: spec.project.id,
    sha: spec.sha ?? randomSha(),
    before_sha: spec.beforeSha ?? "0".repeat(40),
    ref: spec.ref ?? spec.project.default_branch ?? "main",
    tag: spec.tag ?? false,
    source: spec.source ?? "push",
    user_id: spec.userId,
    created_at: at,
    updated_at: at,
    ...(spec.stages ? { stages: spec.stages, variables: spec.variables ?? {}, changes_base: spec.changesBase ?? null } : {}),
  };
  // Refuse before storing anything: a half-made pipeline must not stay behind.
  for (const j of spec.jobs) {
    if (j.runner_id !== undefined)
      checkPick(emu, j.runner_id, { project_id: pipeline.project_id, tag_list: j.tag_list ?? [], name: j.name }, pipeline);
  }
  ci.pipelines.push(pipeline);
  const jobs = spec.jobs.map((j) => {
    const job: SimCiJob = {
      id: ci.nextId.job++,
      pipeline_id: pipeline.id,
      project_id: pipeline.project_id,
      name: j.name,
      stage: j.stage ?? "test",
      status: "created",
      tag_list: [...(j.tag_list ?? [])],
      allow_failure: j.allow_failure ?? false,
      runner_id: null,
      system_id: null,
      failure_reason: null,
      created_at: at,
      queued_at: null,
      started_at: null,
      finished_at: null,
      trace: "",
      ...schedulingFields(j),
    };
    ci.jobs.push(job);
    return job;
  });
  spec.jobs.forEach((j, i) => {
    const job = jobs[i];
    if (job) updateJob(emu, job, { status: j.status, runner_id: j.runner_id, system_id: j.system_id, trace: j.trace });
  });
  emu.save();
  return { pipeline, jobs };
}

/** The scheduling fields a job keeps, only those given (control-API jobs have none). */
function schedulingFields(j: NewJob): Partial<SchedulingFields> {
  const { when, needs, resource_group, environment, timeout_s, config } = j;
  return definedFields({ when, needs, resource_group, environment, timeout_s, config });
}

export interface JobChange {
  status?: CiStatus;
  /** The runner that took the job (null: none). */
  runner_id?: number | null;
  system_id?: string | null;
  failure_reason?: string;
  /** Replaces the log. */
  trace?: string;
  /** Appends to the log, as a runner's incremental trace PATCH does. */
  append_trace?: string;
}

/**
 * Moves a job: status timestamps as GitLab keeps them (queued when pending, started when running,
 * finished when complete), its runner and log; the pipeline's updated_at follows. A change made
 * while a runner holds the job counts as that runner's contact (its contacted_at and manager move).
 */
export function updateJob(emu: Emulator, job: SimCiJob, change: JobChange): SimCiJob {
  const ci = ciState(emu.state);
  const at = emu.now().toISOString();
  if (change.runner_id !== undefined && change.runner_id !== null && change.runner_id !== job.runner_id) {
    checkPick(
      emu,
      change.runner_id,
      job,
      ci.pipelines.find((p) => p.id === job.pipeline_id),
    );
  }
  if (change.runner_id !== undefined) job.runner_id = change.runner_id;
  if (change.system_id !== undefined) job.system_id = change.system_id;
  const status = change.status;
  if (status && status !== job.status) {
    if (["pending", "running"].includes(status) && job.queued_at === null) job.queued_at = at;
    if (status === "running" && job.started_at === null) job.started_at = at;
    if (COMPLETED_STATUSES.includes(status)) job.finished_at = at;
    else job.finished_at = null;
    job.status = status;
  }
  if (job.status === "failed") job.failure_reason = change.failure_reason ?? job.failure_reason ?? "script_failure";
  else job.failure_reason = null;
  const variables = ci.variables.filter((v) => v.project_id === job.project_id);
  if (change.trace !== undefined) job.trace = maskTrace(change.trace, variables);
  if (change.append_trace !== undefined) job.trace = maskTrace(job.trace + change.append_trace, variables);
  const pipeline = ci.pipelines.find((p) => p.id === job.pipeline_id);
  if (pipeline) pipeline.updated_at = at;
  const runner = job.runner_id === null ? undefined : emu.state.runners.find((r) => r.id === job.runner_id);
  // recordContact persists; without a runner, persist here.
  if (runner) recordContact(emu, runner, { at: emu.now(), systemId: job.system_id ?? undefined });
  else emu.save();
  return job;
}

/**
 * Why GitLab would not hand this job to this runner, or undefined when it would
 * (Ci::Runner#can_pick?, plus a paused runner asking for no jobs): the runner must serve the
 * project, have every tag of the job, run untagged jobs if the job has no tags, and a protected
 * runner takes jobs of protected refs only (in the sim: the project's default branch).
 */
export function whyRunnerCannotPick(
  emu: Emulator,
  runner: SimRunner,
  job: Pick<SimCiJob, "project_id" | "tag_list">,
  pipeline: Pick<SimPipeline, "ref" | "tag"> | undefined,
): string | undefined {
  const project = emu.state.projects.find((p) => p.id === job.project_id);
  if (runner.paused) return "it is paused";
  const serves =
    runner.runner_type === "instance_type" ||
    (runner.runner_type === "group_type" && runner.group_id === project?.group_id) ||
    (runner.runner_type === "project_type" && runner.project_ids.includes(job.project_id));
  if (!serves) return "it is not available to the job's project";
  const missing = job.tag_list.filter((t) => !runner.tag_list.includes(t));
  if (missing.length > 0) return `it lacks the job's tags ${missing.join(", ")}`;
  if (job.tag_list.length === 0 && !runner.run_untagged) return "the job has no tags and the runner does not run untagged jobs";
  const protectedRef = !pipeline?.tag && pipeline?.ref === (project?.default_branch ?? "main");
  if (runner.access_level === "ref_protected" && !protectedRef) return "the runner is protected and the job's ref is not";
  return undefined;
}

/** A 400 (the control API's answer) when the runner is unknown or GitLab would not give it the job. */
function checkPick(
  emu: Emulator,
  runnerId: number,
  job: Pick<SimCiJob, "project_id" | "tag_list" | "name">,
  pipeline: Pick<SimPipeline, "ref" | "tag"> | undefined,
): void {
  const runner = emu.state.runners.find((r) => r.id === runnerId);
  if (!runner) throw paramError(`no runner with id ${runnerId}`);
  const refused = whyRunnerCannotPick(emu, runner, job, pipeline);
  if (refused) throw paramError(`runner ${runner.id} cannot take job ${job.name}: ${refused}`);
}

/** A job by id in any project (control API), or undefined. */
export function findCiJob(emu: Emulator, id: unknown): SimCiJob | undefined {
  return ciState(emu.state).jobs.find((j) => String(j.id) === String(id));
}
