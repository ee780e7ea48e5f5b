import { randomBytes } from "node:crypto";
import type { SimState } from "./state.js";

/**
 * CI/CD state: project variables, pipelines and their jobs (with traces). It lives in the state
 * document under `ci`, created on first use, so state files written before it load unchanged.
 */
export interface CiState {
  nextId: { variable: number; pipeline: number; job: number };
  variables: SimVariable[];
  pipelines: SimPipeline[];
  jobs: SimCiJob[];
}

export type VariableType = "env_var" | "file";
export const VARIABLE_TYPES: readonly VariableType[] = ["env_var", "file"];

/** A project CI/CD variable (Ci::Variable). */
export interface SimVariable {
  id: number;
  project_id: number;
  key: string;
  /** Kept in clear like the tokens: the state file is mode 0600. Never logged, never in an error. */
  value: string;
  variable_type: VariableType;
  protected: boolean;
  masked: boolean;
  /** masked_and_hidden at creation (GitLab 17.4+): the API never shows the value again. */
  hidden: boolean;
  raw: boolean;
  environment_scope: string;
  description: string | null;
}

/** Ci::Pipeline sources (the `source` enum the pipelines list filters on). */
export const PIPELINE_SOURCES = [
  "unknown",
  "push",
  "web",
  "trigger",
  "schedule",
  "api",
  "external",
  "pipeline",
  "chat",
  "webide",
  "merge_request_event",
  "external_pull_request_event",
  "parent_pipeline",
  "ondemand_dast_scan",
  "ondemand_dast_validation",
  "security_orchestration_policy",
  "container_registry_push",
  "duo_workflow",
  "pipeline_execution_policy_schedule",
] as const;
export type PipelineSource = (typeof PIPELINE_SOURCES)[number];

/** Ci::HasStatus::AVAILABLE_STATUSES: what jobs and pipelines can be. */
export const CI_STATUSES = [
  "created",
  "waiting_for_resource",
  "preparing",
  "waiting_for_callback",
  "pending",
  "running",
  "success",
  "failed",
  "canceling",
  "canceled",
  "skipped",
  "manual",
  "scheduled",
] as const;
export type CiStatus = (typeof CI_STATUSES)[number];
/** Statuses after which a job or pipeline no longer changes by itself (Ci::HasStatus::COMPLETED_STATUSES). */
export const COMPLETED_STATUSES: readonly CiStatus[] = ["success", "failed", "canceled", "skipped"];
/** Statuses a job has while a runner holds it. */
export const ACTIVE_STATUSES: readonly CiStatus[] = ["running", "canceling"];

export interface SimPipeline {
  id: number;
  /** Per-project number. */
  iid: number;
  project_id: number;
  sha: string;
  before_sha: string;
  ref: string;
  tag: boolean;
  source: PipelineSource;
  user_id: number;
  created_at: string;
  updated_at: string;
  /** The configuration error of a pipeline GitLab could not create jobs for (it is then failed); absent otherwise. */
  yaml_errors?: string | null;
  /** `[skip ci]` in the head commit: GitLab keeps the pipeline, skipped, with no jobs. */
  skipped?: boolean;
  /** The stages in order (from the configuration); absent on pipelines made through the control API. */
  stages?: string[];
  /** GitLab's predefined variables for the event that created it (no secrets: refs, shas, MR facts). */
  variables?: Record<string, string>;
  /**
   * What `rules:changes` compares against, as GitLab does: the push's before-sha, or the merge base of
   * an MR's target and source; null when every `changes` rule matches (new branch, tag).
   */
  changes_base?: string | null;
}

export interface SimCiJob {
  id: number;
  pipeline_id: number;
  project_id: number;
  name: string;
  stage: string;
  status: CiStatus;
  tag_list: string[];
  allow_failure: boolean;
  /** Null until a runner takes it. */
  runner_id: number | null;
  /** The runner manager (system_id) that runs it, when known. */
  system_id: string | null;
  failure_reason: string | null;
  created_at: string;
  /** When it became pending (queued_duration counts from here). */
  queued_at: string | null;
  started_at: string | null;
  finished_at: string | null;
  /** The job log as GitLab stores it: masked variable values already replaced by [MASKED]. */
  trace: string;
  /** When the job runs (on_success, on_failure, always, manual, delayed); absent means on_success. */
  when?: string;
  /** Names from `needs:`; absent means stage order (every job of the earlier stages). */
  needs?: string[];
  /** `resource_group:`: at most one job of the project holds it at a time. */
  resource_group?: string | null;
  /** `environment:` name, for the environment-scoped variables it gets. */
  environment?: string | null;
  /** `timeout:` in seconds, when the job sets one. */
  timeout_s?: number | null;
  /** The job's expanded configuration (gitlab-ci-local --preview), for the runner's job payload. */
  config?: Record<string, unknown>;
  /** What the runner's payload carried, keys only (job-payload.ts payloadRecord); set when a runner takes the job. */
  payload_record?: JobPayloadRecord;
}

/**
 * The emulator's record of one job payload, never with a value: every variable key it carried, the
 * project variables among them (and which of those are protected), whether the ref was protected,
 * the job's environment and the runner that took it.
 */
export interface JobPayloadRecord {
  variable_keys: string[];
  project_variable_keys: string[];
  protected_variable_keys: string[];
  protected_ref: boolean;
  environment: string | null;
  runner: { id: number; description: string; access_level: "not_protected" | "ref_protected"; protected: boolean };
  recorded_at: string;
}

/** What a job keeps for the scheduler (ci-schedule.ts) and the runner's job payload. */
export type SchedulingFields = Pick<SimCiJob, "when" | "needs" | "resource_group" | "environment" | "timeout_s" | "config">;

/** The CI part of the state, created (empty) on first use. */
export function ciState(state: SimState): CiState {
  const holder = state as SimState & { ci?: CiState };
  holder.ci ??= { nextId: { variable: 1, pipeline: 1, job: 1 }, variables: [], pipelines: [], jobs: [] };
  return holder.ci;
}

/** A 40-hex commit sha, for pipelines created without one. */
export function randomSha(): string {
  return randomBytes(20).toString("hex");
}

/**
 * A pipeline's status from its jobs, as Gitlab::Ci::Status::Composite derives it: a failed job that
 * may fail counts as success with warnings, a manual job that may fail is ignored; no jobs at all
 * reads as "created".
 */
export function compositeStatus(jobs: readonly Pick<SimCiJob, "status" | "allow_failure">[]): CiStatus {
  if (jobs.length === 0) return "created";
  // A manual job that may fail is optional: it does not hold the pipeline's status ("ignored").
  const symbol = (j: Pick<SimCiJob, "status" | "allow_failure">) =>
    j.allow_failure && j.status === "failed" ? "success_with_warnings" : j.allow_failure && j.status === "manual" ? "ignored" : j.status;
  const set = new Set<string>(jobs.map(symbol));
  const onlyOf = (...s: string[]) => [...set].every((x) => s.includes(x) || x === "ignored");
  const anyOf = (...s: string[]) => s.some((x) => set.has(x));
  if (onlyOf("skipped")) return "skipped";
  if (onlyOf("success", "skipped", "success_with_warnings")) return "success";
  if (onlyOf("created", "success_with_warnings")) return "created";
  if (onlyOf("preparing", "success_with_warnings")) return "preparing";
  if (onlyOf("canceled", "success", "skipped", "success_with_warnings")) return "canceled";
  if (onlyOf("pending", "created", "skipped", "success_with_warnings")) return "pending";
  if (anyOf("canceling")) return "canceling";
  if (anyOf("running", "pending")) return "running";
  if (anyOf("waiting_for_resource")) return "waiting_for_resource";
  if (anyOf("manual")) return "manual";
  if (anyOf("scheduled")) return "scheduled";
  if (anyOf("preparing")) return "preparing";
  if (anyOf("created")) return "running";
  return "failed";
}

/** Replaces every masked variable value in a job log with [MASKED], as GitLab Runner does before sending it. */
export function maskTrace(trace: string, variables: readonly Pick<SimVariable, "masked" | "value">[]): string {
  const secrets = variables
    .filter((v) => v.masked && v.value.length > 0)
    .map((v) => v.value)
    .sort((a, b) => b.length - a.length);
  return secrets.reduce((text, secret) => text.split(secret).join("[MASKED]"), trace);
}
