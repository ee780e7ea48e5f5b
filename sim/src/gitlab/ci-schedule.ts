import type { CiStatus, SimCiJob } from "./ci-state.js";

/**
 * The scheduling core, pure: which created jobs move on (GitLab's pipeline processing), which job
 * waiting for a resource group gets it, and which pending job a runner takes. The emulator's engine
 * (ci-engine.ts) applies the answers to the state.
 */

export type SchedJob = Pick<
  SimCiJob,
  "id" | "pipeline_id" | "project_id" | "name" | "stage" | "status" | "allow_failure" | "when" | "needs" | "resource_group" | "runner_id"
>;

export interface StatusChange {
  id: number;
  status: CiStatus;
}

const FINISHED: readonly CiStatus[] = ["success", "failed", "canceled", "skipped"];

/** What a job's dependencies amount to (Gitlab::Ci::Status::Composite over them), or "waiting" while one has not finished. */
type Outcome = "waiting" | "success" | "failed" | "canceled" | "skipped";

/** A `needs:` name also names the parallel:matrix jobs made from it ("build" → "build: [amd64]"). */
const namedBy = (need: string, job: SchedJob) => job.name === need || job.name.startsWith(`${need}: [`);

/** The jobs this one waits for: those it needs, or every job of the earlier stages. */
export function dependenciesOf<J extends SchedJob>(job: SchedJob, pipelineJobs: readonly J[], stages: readonly string[]): J[] {
  const needs = job.needs;
  if (needs) return pipelineJobs.filter((j) => j.id !== job.id && needs.some((n) => namedBy(n, j)));
  const stage = stages.indexOf(job.stage);
  return pipelineJobs.filter((j) => stages.indexOf(j.stage) < stage);
}

/**
 * How a job's dependencies ended. A job with `needs:` accepts only success from what it needs (GitLab's
 * valid statuses for DAG jobs): a skipped need skips it — after a failed stage, a `needs: [configure]`
 * job does not run because configure was skipped. Stage-ordered jobs take skipped as success.
 */
function outcomeOf(deps: readonly SchedJob[], dag: boolean): Outcome {
  // A manual job that may fail does not hold the pipeline up: it counts as skipped (GitLab's "manual, allowed to fail").
  const settled = (j: SchedJob) => FINISHED.includes(j.status) || (j.status === "manual" && j.allow_failure);
  if (!deps.every(settled)) return "waiting";
  if (deps.some((j) => j.status === "failed" && !j.allow_failure)) return "failed";
  if (deps.some((j) => j.status === "canceled")) return "canceled";
  if (dag && deps.some((j) => j.status === "skipped")) return "skipped";
  return "success";
}

/**
 * What a created job becomes once its dependencies have finished (Ci::ProcessBuildService's valid
 * statuses per `when`): on_success runs after success, on_failure after a failure, always after
 * either (not after a cancel), manual waits for a person after success; otherwise it is skipped.
 * A job that starts goes to waiting_for_resource first when it has a resource group.
 */
function nextStatus(job: SchedJob, outcome: Exclude<Outcome, "waiting">): CiStatus {
  const when = job.when ?? "on_success";
  const start: CiStatus = job.resource_group ? "waiting_for_resource" : "pending";
  switch (when) {
    case "on_failure":
      return outcome === "failed" ? start : "skipped";
    case "always":
      return outcome === "canceled" ? "skipped" : start;
    case "manual":
      return outcome === "success" ? "manual" : "skipped";
    default:
      // on_success, and delayed (start_in is not emulated: it runs at once).
      return outcome === "success" ? start : "skipped";
  }
}

/**
 * One pipeline's processing: every created job whose dependencies have finished moves on, until
 * nothing changes (a skipped job may release the next stage). Returns the changes in the order made.
 */
export function processPipeline(jobs: readonly SchedJob[], stages: readonly string[]): StatusChange[] {
  const current = jobs.map((j) => ({ ...j }));
  const changes: StatusChange[] = [];
  for (let moved = true; moved; ) {
    moved = false;
    for (const job of current) {
      if (job.status !== "created") continue;
      const outcome = outcomeOf(dependenciesOf(job, current, stages), job.needs !== undefined && job.needs !== null);
      if (outcome === "waiting") continue;
      job.status = nextStatus(job, outcome);
      changes.push({ id: job.id, status: job.status });
      moved = true;
    }
  }
  return changes;
}

/** Statuses in which a job holds its resource group. */
const HOLDING: readonly CiStatus[] = ["pending", "running", "canceling"];

/**
 * Resource groups, GitLab's `unordered` process mode: per project and group name, when no job holds
 * the group, the oldest job waiting for it becomes pending (and holds it until it finishes), across pipelines.
 */
export function assignResources(jobs: readonly SchedJob[]): StatusChange[] {
  const key = (j: SchedJob) => `${j.project_id}\u0000${j.resource_group}`;
  const held = new Set(jobs.filter((j) => j.resource_group && HOLDING.includes(j.status)).map(key));
  const changes: StatusChange[] = [];
  for (const job of [...jobs].sort((a, b) => a.id - b.id)) {
    if (job.status !== "waiting_for_resource" || !job.resource_group || held.has(key(job))) continue;
    held.add(key(job));
    changes.push({ id: job.id, status: "pending" });
  }
  return changes;
}

/** The oldest pending job no runner holds yet that this runner may take, or undefined. */
export function pickJob<J extends SchedJob>(jobs: readonly J[], mayTake: (job: J) => boolean): J | undefined {
  return [...jobs].sort((a, b) => a.id - b.id).find((j) => j.status === "pending" && j.runner_id === null && mayTake(j));
}

/** A runner process's capacity as config.toml sets it (sim-only report in info.config). */
export interface RunnerCapacity {
  /** [[runners]] limit: jobs this runner may run at once; 0 means no limit of its own. */
  limit?: number;
  /** Global concurrent: jobs the whole runner process (every [[runners]] on the node) may run at once. */
  concurrent?: number;
}

/**
 * Whether a runner may take one more job: under its own `limit` and under the process's
 * `concurrent` (counted over every runner the same process serves). Without a report, one job at a time.
 */
export function hasCapacity(capacity: RunnerCapacity | undefined, runningOnRunner: number, runningInProcess: number): boolean {
  const limit = capacity?.limit ?? 1;
  const concurrent = capacity?.concurrent ?? 1;
  return (limit <= 0 || runningOnRunner < limit) && runningInProcess < Math.max(1, concurrent);
}

/** GitLab's default job timeout (project setting, 1 h), capped by the runner's maximum_timeout. */
export const DEFAULT_JOB_TIMEOUT_S = 3600;

/** The timeout a job runs under: its own `timeout:` or the project's, capped by the runner's maximum_timeout. */
export function jobTimeoutSeconds(jobTimeout: number | null | undefined, runnerMaximum: number | null): number {
  const own = jobTimeout ?? DEFAULT_JOB_TIMEOUT_S;
  return runnerMaximum === null ? own : Math.min(own, runnerMaximum);
}
