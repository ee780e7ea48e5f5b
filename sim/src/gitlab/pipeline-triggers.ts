import type { ProcessRunner } from "@pifleet/io";
import { type EvaluatedJob, type Evaluation, evaluatePipeline } from "./ci-evaluate.js";
import { createPipeline, type NewJob, type NewPipeline, updateJob, whyRunnerCannotPick } from "./ci-jobs.js";
import type { PipelineSource, SimCiJob, SimPipeline } from "./ci-state.js";
import type { Emulator } from "./context.js";
import { defaultBranch, existingRepository, pathWithNamespace, ZERO_SHA } from "./repository.js";
import { isOnline } from "./runner-model.js";
import type { SimMergeRequest, SimProject, SimPushEvent } from "./state.js";

/**
 * Pushes and merge-request events create the pipeline GitLab would create (evaluation only:
 * running the jobs is the engine's part). Evaluation runs after the push has answered; a test
 * awaits it with `pipelineTriggersSettled(emu)`.
 */

const pending = new WeakMap<Emulator, Set<Promise<unknown>>>();
/** Why a pending job is stuck, by job id (GitLab shows it on the job page, not in the job JSON). */
const stuckReasons = new WeakMap<Emulator, Map<number, string>>();
/** Swappable for tests: how gitlab-ci-local and git are run. */
const runners = new WeakMap<Emulator, ProcessRunner>();

export function setTriggerRunner(emu: Emulator, runner: ProcessRunner): void {
  runners.set(emu, runner);
}

/** Resolves when every evaluation started so far (and any they started) has finished. */
export async function pipelineTriggersSettled(emu: Emulator): Promise<void> {
  for (;;) {
    const set = pending.get(emu);
    if (!set || set.size === 0) return;
    await Promise.allSettled([...set]);
  }
}

/** The stuck reason recorded for a job, if any. */
export function stuckReason(emu: Emulator, jobId: number): string | undefined {
  return stuckReasons.get(emu)?.get(jobId);
}

function track(emu: Emulator, work: Promise<unknown>): void {
  let set = pending.get(emu);
  if (!set) {
    set = new Set();
    pending.set(emu, set);
  }
  const s = set;
  const done = work
    .catch((error: unknown) => {
      // An evaluation that could not run at all (git or gitlab-ci-local missing) must not take the emulator down.
      console.error(`pipeline trigger failed: ${error instanceof Error ? error.message : String(error)}`);
    })
    .finally(() => s.delete(done));
  s.add(done);
}

/** Starts, without waiting, the pipelines GitLab would create for these push events. */
export function triggerForPushes(emu: Emulator, project: SimProject, events: readonly SimPushEvent[]): void {
  for (const event of events) {
    if (event.after === ZERO_SHA) continue; // a deleted ref starts no pipeline
    const tag = event.ref.startsWith("refs/tags/");
    const name = event.ref.replace(/^refs\/(heads|tags)\//, "");
    track(emu, createFor(emu, project, { source: "push", ref: name, tag, sha: event.after, userId: event.user_id }));
    if (!tag) {
      // A push to an open MR's source branch also runs its merge-request pipeline.
      for (const mr of emu.state.mergeRequests) {
        if (mr.project_id === project.id && mr.state === "opened" && mr.source_branch === name) {
          triggerForMergeRequest(emu, project, mr, event.after, event.user_id);
        }
      }
    }
  }
}

/** Starts the merge-request pipeline (source merge_request_event, ref refs/merge-requests/IID/head) for an MR's head. */
export function triggerForMergeRequest(emu: Emulator, project: SimProject, mr: SimMergeRequest, sha: string, userId: number): void {
  track(emu, createFor(emu, project, { source: "merge_request_event", ref: mr.source_branch ?? "", tag: false, sha, userId, mr }));
}

interface Trigger {
  source: PipelineSource;
  ref: string;
  tag: boolean;
  sha: string;
  userId: number;
  mr?: SimMergeRequest;
}

/** GitLab's predefined variables for the event (docs: ci/variables/predefined_variables). */
export function predefinedVariables(emu: Emulator, project: SimProject, t: Trigger): Record<string, string> {
  const branch = defaultBranch(project);
  const isProtected = !t.tag && !t.mr && t.ref === branch;
  const v: Record<string, string> = {
    CI: "true",
    GITLAB_CI: "true",
    CI_SERVER_URL: emu.baseUrl(),
    CI_PROJECT_ID: String(project.id),
    CI_PROJECT_PATH: pathWithNamespace(emu, project),
    CI_PROJECT_NAME: project.path,
    CI_DEFAULT_BRANCH: branch,
    CI_PIPELINE_SOURCE: t.source,
    CI_COMMIT_SHA: t.sha,
    CI_COMMIT_SHORT_SHA: t.sha.slice(0, 8),
    CI_COMMIT_REF_NAME: t.ref,
    CI_COMMIT_REF_SLUG: t.ref
      .toLowerCase()
      .replace(/[^a-z0-9]/g, "-")
      .slice(0, 63)
      .replace(/^-+|-+$/g, ""),
    CI_COMMIT_REF_PROTECTED: String(isProtected),
  };
  if (t.tag) v.CI_COMMIT_TAG = t.ref;
  else if (!t.mr) v.CI_COMMIT_BRANCH = t.ref;
  if (t.mr) {
    v.CI_MERGE_REQUEST_IID = String(t.mr.iid);
    v.CI_MERGE_REQUEST_ID = String(t.mr.id);
    v.CI_MERGE_REQUEST_PROJECT_ID = String(project.id);
    v.CI_MERGE_REQUEST_SOURCE_BRANCH_NAME = t.mr.source_branch ?? "";
    v.CI_MERGE_REQUEST_TARGET_BRANCH_NAME = t.mr.target_branch ?? branch;
    v.CI_MERGE_REQUEST_SOURCE_BRANCH_SHA = t.sha;
    v.CI_MERGE_REQUEST_TITLE = t.mr.title;
    v.CI_MERGE_REQUEST_EVENT_TYPE = "detached";
  }
  return v;
}

async function createFor(emu: Emulator, project: SimProject, t: Trigger): Promise<SimPipeline | undefined> {
  const repoDir = existingRepository(emu, project);
  if (!repoDir) return undefined;
  const evaluation = await evaluatePipeline({
    repoDir,
    sha: t.sha,
    variables: predefinedVariables(emu, project, t),
    runner: runners.get(emu),
  });
  return recordEvaluation(emu, project, t, evaluation);
}

/**
 * Stores what GitLab would show for the evaluation: no jobs → no pipeline; an invalid configuration
 * → a failed pipeline with yaml_errors; else the pipeline with its jobs,
 * those of the first stage pending (or manual), the rest created.
 */
export function recordEvaluation(emu: Emulator, project: SimProject, t: Trigger, evaluation: Evaluation): SimPipeline | undefined {
  if (evaluation.kind === "invalid") {
    const { pipeline } = createPipeline(emu, pipelineSpec(project, t, []));
    pipeline.yaml_errors = evaluation.yamlErrors;
    emu.save();
    return pipeline;
  }
  if (evaluation.jobs.length === 0) return undefined;
  const order = (j: EvaluatedJob) => evaluation.stages.indexOf(j.stage);
  const first = Math.min(...evaluation.jobs.map(order));
  const jobs: NewJob[] = evaluation.jobs.map((j) => ({
    name: j.name,
    stage: j.stage,
    tag_list: j.tag_list,
    allow_failure: j.allow_failure,
    status: startsNow(j, first, order(j)) ? (j.when === "manual" ? "manual" : "pending") : "created",
  }));
  const created = createPipeline(emu, pipelineSpec(project, t, jobs));
  for (const job of created.jobs) markIfStuck(emu, job, created.pipeline);
  return created.pipeline;
}

/** The pipeline record for the trigger: an MR pipeline's ref is refs/merge-requests/IID/head, as GitLab names it. */
function pipelineSpec(project: SimProject, t: Trigger, jobs: NewJob[]): NewPipeline {
  const ref = t.mr ? `refs/merge-requests/${t.mr.iid}/head` : t.ref;
  return { project, userId: t.userId, ref, sha: t.sha, tag: t.tag, source: t.source, jobs };
}

/** A job starts at once when it is in the first stage, or has `needs: []`. */
function startsNow(j: EvaluatedJob, first: number, stage: number): boolean {
  return (j.needs !== undefined && j.needs.length === 0) || stage === first;
}

/**
 * GitLab's "This job is stuck" reasons (job page): a pending job that no online, unpaused runner of
 * the project can take. The reason goes into the trace and the emulator's stuck map; the job stays pending.
 */
export function markIfStuck(emu: Emulator, job: SimCiJob, pipeline: SimPipeline): string | undefined {
  if (job.status !== "pending") return undefined;
  const candidates = emu.state.runners.filter((r) => !r.paused && isOnline(r.contacted_at, emu.now()));
  const able = candidates.filter((r) => whyRunnerCannotPick(emu, r, job, pipeline) === undefined);
  const map = stuckReasons.get(emu) ?? new Map<number, string>();
  stuckReasons.set(emu, map);
  if (able.length > 0) {
    map.delete(job.id);
    return undefined;
  }
  const reason =
    candidates.length === 0
      ? "This job is stuck because the project doesn't have any runners online assigned to it."
      : job.tag_list.length > 0
        ? `This job is stuck because you don't have any active runners online or available with any of these tags assigned to them: ${job.tag_list.join(" ")}`
        : "This job is stuck because you don't have any active runners that can run this job.";
  map.set(job.id, reason);
  updateJob(emu, job, { append_trace: `${reason}\n` });
  return reason;
}
