import type { Note, RunnerRestart } from "./types.js";

/**
 * When a config.toml write restarts gitlab-runner. It rereads the file on change (a HUP makes that
 * immediate) except listen_address, which it binds only at start. A restart is a graceful stop
 * (SIGQUIT: running jobs finish first), so restarting the runner that runs this very job would wait
 * for the job, and the job for the restart: on that node the restart is left to a systemd timer on the
 * node (`systemd-run --on-active`), which fires after the job has ended (docs/runners.md).
 */

/** How long after the write the deferred restart fires: the job that wrote it has its trace left to send. */
export const DEFERRED_RESTART_SEC = 30;

/** Pure: the restart a write from `current` to `next` needs on `node`, if any. */
export function runnerRestart(
  current: { listen_address?: unknown },
  next: { listen_address?: unknown },
  node: string,
  selfNode: string | undefined,
): RunnerRestart | undefined {
  if (current.listen_address === next.listen_address) return undefined;
  return node === selfNode ? "after-this-job" : "now";
}

export function deferredRestartNote(node: string): Note {
  return {
    level: "info",
    subject: node,
    message: `runs this job: its gitlab-runner restart (listen_address) is left to a systemd timer that fires ${DEFERRED_RESTART_SEC} s later and waits for running jobs`,
  };
}
