import { type ProcessRunner, processRunner } from "@pifleet/io";
import { advancePipelines } from "./ci-advance.js";
import { type Evaluation, evaluatePipeline } from "./ci-evaluate.js";
import { createPipeline, type NewJob, type NewPipeline } from "./ci-jobs.js";
import type { PipelineSource, SimPipeline } from "./ci-state.js";
import type { Emulator } from "./context.js";
import { defaultBranch, existingRepository, pathWithNamespace, ZERO_SHA } from "./repository.js";
import type { SimMergeRequest, SimProject, SimPushEvent } from "./state.js";

/**
 * Pushes and merge-request events create the pipeline GitLab would create (evaluation only:
 * running the jobs is the engine's part, ci-engine.ts). Evaluation runs after the push has answered; a test
 * awaits it with `pipelineTriggersSettled(emu)`.
 */

const pending = new WeakMap<Emulator, Set<Promise<unknown>>>();
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
    track(emu, createFor(emu, project, { source: "push", ref: name, tag, sha: event.after, before: event.before, userId: event.user_id }));
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
  /** The push's before-sha (40 zeros for a new ref); absent for MR events. */
  before?: string;
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
  const git = runners.get(emu) ?? processRunner;
  if (skipCi(await commitMessage(git, repoDir, t.sha))) {
    // GitLab keeps a pipeline for a [skip ci] push: skipped, with no jobs (Gitlab::Ci::Pipeline::Chain::Skip).
    const { pipeline } = createPipeline(emu, pipelineSpec(project, t, [], null));
    pipeline.skipped = true;
    emu.save();
    return pipeline;
  }
  const changesBase = await changesBaseFor(git, repoDir, project, t);
  const variables = predefinedVariables(emu, project, t);
  const evaluation = await evaluatePipeline({
    repoDir,
    sha: t.sha,
    variables,
    defaultBranch: defaultBranch(project),
    changesBase,
    runner: runners.get(emu),
  });
  return recordEvaluation(emu, project, t, evaluation, { variables, changesBase });
}

/** `[skip ci]` or `[ci skip]` anywhere in the commit message, any case (GitLab's rule). */
export function skipCi(message: string): boolean {
  return /\[(skip ci|ci skip)\]/i.test(message);
}

async function commitMessage(git: ProcessRunner, repoDir: string, sha: string): Promise<string> {
  const r = await git.run("git", ["--git-dir", repoDir, "log", "-1", "--format=%B", sha], { allowFailure: true, describe: "git log" });
  return r.code === 0 ? r.stdout : "";
}

/**
 * What GitLab compares `rules:changes` with: a branch push, its before-sha; an MR pipeline, the merge
 * base of the target branch and the MR's head (the MR's diff); a new branch or a tag, nothing (every
 * `changes` rule matches).
 */
async function changesBaseFor(git: ProcessRunner, repoDir: string, project: SimProject, t: Trigger): Promise<string | null> {
  if (t.mr) {
    const target = t.mr.target_branch ?? defaultBranch(project);
    const r = await git.run("git", ["--git-dir", repoDir, "merge-base", `refs/heads/${target}`, t.sha], {
      allowFailure: true,
      describe: "git merge-base",
    });
    return r.code === 0 ? r.stdout.trim() : null;
  }
  if (t.tag || !t.before || t.before === ZERO_SHA) return null;
  return t.before;
}

/**
 * Stores what GitLab would show for the evaluation: no jobs → no pipeline; an invalid configuration
 * → a failed pipeline with yaml_errors; else the pipeline with its jobs, all created, then moved on
 * by the scheduler (the first stage pending or manual, the rest waiting for theirs).
 */
export function recordEvaluation(
  emu: Emulator,
  project: SimProject,
  t: Trigger,
  evaluation: Evaluation,
  facts: { variables: Record<string, string>; changesBase: string | null },
): SimPipeline | undefined {
  if (evaluation.kind === "invalid") {
    const { pipeline } = createPipeline(emu, pipelineSpec(project, t, [], null));
    pipeline.yaml_errors = evaluation.yamlErrors;
    emu.save();
    return pipeline;
  }
  if (evaluation.jobs.length === 0) return undefined;
  const { pipeline } = createPipeline(emu, {
    // Evaluated jobs carry what the scheduler needs (when, needs, resource_group, …) under the same names.
    ...pipelineSpec(project, t, evaluation.jobs, facts.changesBase),
    stages: evaluation.stages,
    variables: facts.variables,
  });
  advancePipelines(emu);
  return pipeline;
}

/** The pipeline record for the trigger: an MR pipeline's ref is refs/merge-requests/IID/head, as GitLab names it. */
function pipelineSpec(project: SimProject, t: Trigger, jobs: NewJob[], changesBase: string | null): NewPipeline {
  const ref = t.mr ? `refs/merge-requests/${t.mr.iid}/head` : t.ref;
  return {
    project,
    userId: t.userId,
    ref,
    sha: t.sha,
    beforeSha: t.before,
    changesBase,
    tag: t.tag,
    source: t.source,
    jobs,
  };
}
