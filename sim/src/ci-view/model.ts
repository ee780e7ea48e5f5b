import { InputError } from "@pifleet/fleet";

/**
 * A pipeline as the live view shows it, built from GitLab's API entities. Pure: the reader fetches,
 * this decides what each job's node is, what counts as finished, stalled or failed.
 */

/** The fields of Entities::Ci::Job the view reads. */
export interface ApiJob {
  id: number;
  name: string;
  stage: string;
  status: string;
  allow_failure: boolean;
  duration: number | null;
  queued_duration?: number | null;
  started_at: string | null;
  finished_at: string | null;
  failure_reason?: string;
  runner: { id: number; description: string | null } | null;
  runner_manager?: { ip_address: string | null } | null;
}

/** The fields of Entities::Ci::Pipeline the view reads. */
export interface ApiPipeline {
  id: number;
  ref: string;
  sha: string;
  status: string;
  source: string;
  web_url: string;
  duration?: number | null;
  yaml_errors?: string | null;
}

export interface NodeAddress {
  name: string;
  address: string;
}

export interface JobView {
  id: number;
  name: string;
  stage: string;
  status: string;
  /** The fleet node whose runner took the job; null before a runner took it (or for a runner of no known node). */
  node: string | null;
  runner: { id: number; description: string } | null;
  /** Seconds it ran (so far, while running); null before it started. */
  duration: number | null;
  allowFailure: boolean;
  failureReason: string | null;
  /** GitLab's job-page reason when no runner can take the pending job. */
  stuckReason: string | null;
}

export interface PipelineView {
  id: number;
  ref: string;
  sha: string;
  status: string;
  source: string;
  webUrl: string;
  duration: number | null;
  yamlErrors: string | null;
  /** In the order GitLab created them (stage order), not the API's newest-first. */
  jobs: JobView[];
}

/**
 * Statuses after which the pipeline needs nothing more from a runner: GitLab's completed statuses,
 * plus `manual` (it waits for a person, not for the fleet).
 */
const FINISHED = new Set(["success", "failed", "canceled", "skipped", "manual"]);
const FAILED = new Set(["failed", "canceled"]);

export const isFinished = (status: string): boolean => FINISHED.has(status);
export const isFailed = (status: string): boolean => FAILED.has(status);

/**
 * The node a job ran on: the runner manager's address (the runner process on the node called
 * in from there), else a node name standing as a word of the runner's description
 * (pifleet's runners are described "pifleet CLUSTER/NODE/POOL [...]").
 */
export function nodeOf(job: ApiJob, nodes: readonly NodeAddress[]): string | null {
  const ip = job.runner_manager?.ip_address;
  const byAddress = ip ? nodes.find((n) => n.address === ip) : undefined;
  if (byAddress) return byAddress.name;
  const words = new Set((job.runner?.description ?? "").split(/[^A-Za-z0-9_-]+/));
  return nodes.find((n) => words.has(n.name))?.name ?? null;
}

export function pipelineView(
  pipeline: ApiPipeline,
  jobs: readonly ApiJob[],
  nodes: readonly NodeAddress[],
  stuckReasons: ReadonlyMap<number, string> = new Map(),
): PipelineView {
  return {
    id: pipeline.id,
    ref: pipeline.ref,
    sha: pipeline.sha,
    status: pipeline.status,
    source: pipeline.source,
    webUrl: pipeline.web_url,
    duration: pipeline.duration ?? null,
    yamlErrors: pipeline.yaml_errors ?? null,
    jobs: [...jobs]
      .sort((a, b) => a.id - b.id)
      .map((j) => ({
        id: j.id,
        name: j.name,
        stage: j.stage,
        status: j.status,
        node: nodeOf(j, nodes),
        runner: j.runner ? { id: j.runner.id, description: j.runner.description ?? "" } : null,
        duration: j.duration === null ? null : Math.round(j.duration),
        allowFailure: j.allow_failure,
        failureReason: j.status === "failed" ? (j.failure_reason ?? null) : null,
        stuckReason: j.status === "pending" ? (stuckReasons.get(j.id) ?? null) : null,
      })),
  };
}

/**
 * Nothing can move without a change to the runners: every job not yet finished is waiting
 * (created behind others, or pending), and some pending job is stuck while none is merely queued.
 */
export function isStalled(view: PipelineView): boolean {
  if (isFinished(view.status)) return false;
  const open = view.jobs.filter((j) => !isFinished(j.status));
  const pending = open.filter((j) => j.status === "pending");
  return (
    open.every((j) => j.status === "created" || j.status === "pending") &&
    pending.length > 0 &&
    pending.every((j) => j.stuckReason !== null)
  );
}

/** Jobs that failed the pipeline (a failure allowed to fail does not). */
export function failedJobs(view: PipelineView): JobView[] {
  return view.jobs.filter((j) => isFailed(j.status) && !j.allowFailure);
}

export interface Summary {
  /** Job count per status, in first-seen order. */
  byStatus: Record<string, number>;
  /** Jobs per fleet node (only jobs a runner took). */
  byNode: Record<string, number>;
}

export function summarize(view: PipelineView): Summary {
  const byStatus: Record<string, number> = {};
  const byNode: Record<string, number> = {};
  for (const j of view.jobs) {
    byStatus[j.status] = (byStatus[j.status] ?? 0) + 1;
    if (j.node) byNode[j.node] = (byNode[j.node] ?? 0) + 1;
  }
  return { byStatus, byNode };
}

/** `--trace JOB`: a job of the pipeline by name or id. */
export function findJob(view: PipelineView, nameOrId: string): JobView {
  const byName = view.jobs.filter((j) => j.name === nameOrId);
  // A retried job appears again under its name: the latest attempt is the one to read.
  const job = byName.at(-1) ?? view.jobs.find((j) => String(j.id) === nameOrId);
  if (job) return job;
  throw new InputError(
    `pipeline #${view.id} has no job "${nameOrId}"`,
    `Its jobs: ${view.jobs.map((j) => j.name).join(", ") || "none"}. Pass a job's name or id.`,
  );
}
