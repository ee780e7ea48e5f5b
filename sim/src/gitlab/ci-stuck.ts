import { updateJob, whyRunnerCannotPick } from "./ci-jobs.js";
import type { SimCiJob, SimPipeline } from "./ci-state.js";
import type { Emulator } from "./context.js";
import { isOnline } from "./runner-model.js";
import type { SimRunner } from "./state.js";

/** Why a pending job is stuck, by job id (GitLab shows it on the job page, not in the job JSON). */
const stuckReasons = new WeakMap<Emulator, Map<number, string>>();

function reasons(emu: Emulator): Map<number, string> {
  let map = stuckReasons.get(emu);
  if (!map) {
    map = new Map();
    stuckReasons.set(emu, map);
  }
  return map;
}

/** Emulators that can run jobs (started with an executor); in the others every pending job is stuck. */
const runnable = new WeakSet<Emulator>();

export function markJobsRunnable(emu: Emulator): void {
  runnable.add(emu);
}

/** The stuck reason recorded for a job, if any. */
export function stuckReason(emu: Emulator, jobId: number): string | undefined {
  return stuckReasons.get(emu)?.get(jobId);
}

/** The executors the sim's runners run jobs with (sim/src/ci-runner): gitlab-ci-local's docker path, and the shell executor. */
export const SIM_EXECUTORS = ["docker", "shell"] as const;
export type SimExecutor = (typeof SIM_EXECUTORS)[number];

/**
 * Whether the sim can run this runner's jobs. A runner whose managers reported an executor and none
 * of them one the sim has (kubernetes, docker+machine, …) cannot; one that never reported is given the benefit.
 */
export function runsInSim(runner: SimRunner): boolean {
  const reported = runner.managers.flatMap((m) => (m.executor_type ? [m.executor_type] : []));
  return reported.length === 0 || reported.some((e) => (SIM_EXECUTORS as readonly string[]).includes(e));
}

/** The executors a runner's managers reported, for the stuck reason. */
function reportedExecutors(runner: SimRunner): string[] {
  return [...new Set(runner.managers.flatMap((m) => (m.executor_type ? [m.executor_type] : [])))];
}

/**
 * GitLab's "This job is stuck" reasons (job page): a pending job that no online, unpaused runner of
 * the project can take. The reason goes into the trace (once per reason) and the stuck map; the job
 * stays pending. A runner the sim cannot run (an executor other than docker or shell) leaves the job stuck with that reason.
 */
export function markIfStuck(emu: Emulator, job: SimCiJob, pipeline: SimPipeline): string | undefined {
  const map = reasons(emu);
  if (job.status !== "pending" || job.runner_id !== null) {
    map.delete(job.id);
    return undefined;
  }
  const candidates = emu.state.runners.filter((r) => !r.paused && isOnline(r.contacted_at, emu.now()));
  const allowed = candidates.filter((r) => whyRunnerCannotPick(emu, r, job, pipeline) === undefined);
  const able = allowed.filter(runsInSim);
  if (able.length > 0 && runnable.has(emu)) {
    map.delete(job.id);
    return undefined;
  }
  const reason =
    able.length > 0
      ? "This job is stuck because this emulator runs no jobs: it was started without the nodes' SSH access (`sim up` passes it)."
      : allowed.length > 0
        ? `This job is stuck because the runners that could take it (${allowed.map((r) => `#${r.id} ${reportedExecutors(r).join("/")}`).join(", ")}) use an executor the sim does not run: it runs ${SIM_EXECUTORS.join(" and ")} runners only.`
        : candidates.length === 0
          ? "This job is stuck because the project doesn't have any runners online assigned to it."
          : job.tag_list.length > 0
            ? `This job is stuck because you don't have any active runners online or available with any of these tags assigned to them: ${job.tag_list.join(" ")}`
            : "This job is stuck because you don't have any active runners that can run this job.";
  if (map.get(job.id) === reason) return reason;
  map.set(job.id, reason);
  updateJob(emu, job, { append_trace: `${reason}\n` });
  return reason;
}
