import { rm } from "node:fs/promises";
import { join } from "node:path";
import { sweepFileVariableLitter } from "../ci-runner/file-variable-litter.js";
import { ensureHelperImage, preparePipelineCheckout, runJob } from "../ci-runner/index.js";
import { SIM_ARCHES, type SimArch } from "../layout.js";
import type { JobExecutor } from "./ci-engine.js";

/** How the emulator reaches the runners' nodes: the sim's SSH user, key and pinned known_hosts (paths). */
export interface RunnerSsh {
  user: string;
  privateKey: string;
  knownHosts: string;
}

/** gitlab-ci-local's leftover file-variable dirs older than this are swept after each job (see ci-runner). */
const LITTER_AGE_MS = 60_000;

/**
 * The executor `sim up` gives the emulator: each job runs with gitlab-ci-local (sim/src/ci-runner) in
 * the pipeline's checkout under `workRoot/builds/…`, in a container on the runner's node (its Docker
 * engine over SSH), with the runner's helper image loaded there first. The per-job home (ssh config,
 * the 0600 variables file) is removed when the job ends.
 */
export function sshJobExecutor(options: { ssh: RunnerSsh; workRoot: string }): JobExecutor {
  return async (run) => {
    const checkout = await preparePipelineCheckout({
      repoDir: run.repoDir,
      sha: run.sha,
      dir: join(options.workRoot, "builds", `project-${run.projectId}`, `pipeline-${run.pipelineId}`),
      defaultBranch: run.defaultBranch,
      changesBase: run.changesBase ?? undefined,
      projectUrl: run.projectUrl,
    });
    const arch: SimArch = (SIM_ARCHES as readonly string[]).includes(run.architecture) ? (run.architecture as SimArch) : "amd64";
    const helperImage = await ensureHelperImage(run.node, options.ssh, { arch });
    const stateHome = join(options.workRoot, "homes", `job-${run.jobId}`);
    try {
      return await runJob({
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
    } finally {
      await rm(stateHome, { recursive: true, force: true });
      await sweepFileVariableLitter(LITTER_AGE_MS);
    }
  };
}
