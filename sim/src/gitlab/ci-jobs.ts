import {
  type CiStatus,
  COMPLETED_STATUSES,
  ciState,
  maskTrace,
  type PipelineSource,
  randomSha,
  type SimCiJob,
  type SimPipeline,
} from "./ci-state.js";
import { recordContact } from "./contact.js";
import type { Emulator } from "./context.js";
import type { SimProject } from "./state.js";

/**
 * What happens to pipelines and jobs, as operations on the state. Today the control API calls
 * them; the pipeline engine (gitlab-ci-local driving the sim's runners) will call the same ones.
 */

export interface NewJob {
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
  tag?: boolean;
  source?: PipelineSource;
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
    before_sha: "0".repeat(40),
    ref: spec.ref ?? spec.project.default_branch ?? "main",
    tag: spec.tag ?? false,
    source: spec.source ?? "push",
    user_id: spec.userId,
    created_at: at,
    updated_at: at,
  };
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

/** Why a job cannot change so; the control API answers it as a 400. */
export class JobChangeError extends Error {}

/**
 * Moves a job: status timestamps as GitLab keeps them (queued when pending, started when running,
 * finished when complete), its runner and log; the pipeline's updated_at follows. A change made
 * while a runner holds the job counts as that runner's contact (its contacted_at and manager move).
 */
export function updateJob(emu: Emulator, job: SimCiJob, change: JobChange): SimCiJob {
  const ci = ciState(emu.state);
  const at = emu.now().toISOString();
  if (change.runner_id !== undefined && change.runner_id !== null && !emu.state.runners.some((r) => r.id === change.runner_id)) {
    throw new JobChangeError(`no runner with id ${change.runner_id}`);
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

/** A job by id in any project (control API), or undefined. */
export function findCiJob(emu: Emulator, id: unknown): SimCiJob | undefined {
  return ciState(emu.state).jobs.find((j) => String(j.id) === String(id));
}
