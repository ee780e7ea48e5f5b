import { rm } from "node:fs/promises";
import { join } from "node:path";
import { sweepFileVariableLitter } from "../ci-runner/file-variable-litter.js";
import {
  artifactsDir,
  ensureHelperImage,
  type PipelineCheckout,
  pipelinePreview,
  preparePipelineCheckout,
  runJob,
  runShellJob,
  shellJobFromPayload,
  withYamlVariables,
  yamlVariablesOf,
} from "../ci-runner/index.js";
import { lowestFreeSlot } from "../ci-runner/shell-plan.js";
import { SIM_ARCHES, type SimArch } from "../layout.js";
import type { JobExecutor, JobResult, JobRun } from "./ci-engine.js";

/** How the emulator reaches the runners' nodes: the sim's SSH user, key and pinned known_hosts (paths). */
export interface RunnerSsh {
  user: string;
  privateKey: string;
  knownHosts: string;
}

/** gitlab-ci-local's leftover file-variable dirs older than this are swept after each job (see ci-runner). */
const LITTER_AGE_MS = 60_000;

/** The concurrent project slots the shell jobs of each runner and project hold (gitlab-runner's CI_CONCURRENT_PROJECT_ID). */
function shellSlots() {
  const held = new Map<string, Set<number>>();
  return {
    take(key: string): number {
      const used = held.get(key) ?? new Set<number>();
      const slot = lowestFreeSlot(used);
      used.add(slot);
      held.set(key, used);
      return slot;
    },
    release(key: string, slot: number): void {
      held.get(key)?.delete(slot);
    },
  };
}

/** A docker-executor job: gitlab-ci-local runs it in a container on the node's engine, with the runner's helper image loaded there first. */
async function dockerJob(run: JobRun, checkout: PipelineCheckout, options: { ssh: RunnerSsh; workRoot: string }): Promise<JobResult> {
  const arch: SimArch = (SIM_ARCHES as readonly string[]).includes(run.architecture) ? (run.architecture as SimArch) : "amd64";
  const helperImage = await ensureHelperImage(run.node, options.ssh, { arch });
  const stateHome = join(options.workRoot, "homes", `job-${run.jobId}`);
  try {
    const result = await runJob({
      checkoutDir: checkout.dir,
      jobName: run.jobName,
      evaluateChanges: checkout.evaluateChanges,
      node: run.node,
      ssh: options.ssh,
      executor: "docker",
      docker: run.docker,
      helperImage,
      variables: run.variables,
      stateHome,
      onOutput: run.onOutput,
      signal: run.signal,
      timeoutMs: run.timeoutMs,
    });
    return { ...result, artifactsDir: artifactsDir(checkout.dir, run.jobName) };
  } finally {
    await rm(stateHome, { recursive: true, force: true });
    await sweepFileVariableLitter(LITTER_AGE_MS);
  }
}

/**
 * The executor `sim up` gives the emulator: each job runs in the pipeline's checkout under
 * `workRoot/builds/…` (gitlab-ci-local's state dir there carries artifacts between jobs, and the
 * emulator keeps a copy of each job's for downloads: JobResult.artifactsDir), by the
 * runner's executor: docker → a container on the node (gitlab-ci-local over SSH); shell → as
 * gitlab-runner on the node (ci-runner/shell-job.ts), with the YAML variables gitlab-ci-local's
 * --preview of the pipeline gives.
 */
export function sshJobExecutor(options: { ssh: RunnerSsh; workRoot: string }): JobExecutor {
  const slots = shellSlots();
  return async (run) => {
    const checkout = await preparePipelineCheckout({
      repoDir: run.repoDir,
      sha: run.sha,
      dir: join(options.workRoot, "builds", `project-${run.projectId}`, `pipeline-${run.pipelineId}`),
      defaultBranch: run.defaultBranch,
      changesBase: run.changesBase ?? undefined,
      projectUrl: run.projectUrl,
    });
    if (run.executor === "docker") return dockerJob(run, checkout, options);
    const yaml = yamlVariablesOf(await pipelinePreview(checkout.dir), run.jobName);
    const key = `${run.runnerShortToken}/${run.projectId}`;
    const slot = slots.take(key);
    try {
      const result = await runShellJob({
        checkoutDir: checkout.dir,
        sha: run.sha,
        jobName: run.jobName,
        job: shellJobFromPayload(run.job),
        projectPath: new URL(run.projectUrl).pathname.replace(/^\/+|\/+$/g, ""),
        node: run.node,
        ssh: options.ssh,
        runner: { shortToken: run.runnerShortToken, slot },
        variables: withYamlVariables(run.variables, yaml),
        onOutput: run.onOutput,
        signal: run.signal,
        timeoutMs: run.timeoutMs,
      });
      return { ...result, artifactsDir: artifactsDir(checkout.dir, run.jobName) };
    } finally {
      slots.release(key, slot);
    }
  };
}
