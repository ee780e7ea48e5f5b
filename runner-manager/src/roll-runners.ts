import { OperationError } from "@pifleet/fleet";
import { type Clock, systemClock } from "@pifleet/io";
import { listOwned, type RunnerContext } from "./context.js";
import { drainNode, undrainNode } from "./drain.js";
import { parseDescription } from "./identity.js";

/**
 * A node's runners around a rolling reboot: drain's pause-and-wait (a pause a person made is left
 * theirs, undrain resumes only what pifleet paused), then, once the node is back, wait for its
 * runners to contact GitLab again.
 */

export interface RollRunnerOptions {
  /** How long running jobs may take to finish, and runners to come back online. */
  timeoutMs: number;
  pollMs: number;
  clock?: Clock;
}

/**
 * Pauses and waits like `runners drain`, forced: during a roll a tag may have no active runner for a
 * few minutes, and its jobs just wait for the node to come back.
 */
export async function drainForRoll(ctx: RunnerContext, node: string, options: RollRunnerOptions): Promise<void> {
  await drainNode(ctx, node, { ...options, force: true });
}

/** Starts gitlab-runner, resumes what pifleet paused, and waits until every runner of the node is online. */
export async function undrainForRoll(ctx: RunnerContext, node: string, options: RollRunnerOptions): Promise<{ keptPaused: number[] }> {
  const report = await undrainNode(ctx, node);
  // A runner a person paused stays paused, and GitLab then reports "paused", never "online".
  const kept = new Set(report.keptPaused.map((k) => k.id));
  const clock = options.clock ?? systemClock;
  const deadline = clock.now() + options.timeoutMs;
  for (;;) {
    const offline = (await listOwned(ctx)).filter((r) => r.node === node && r.status !== "online" && !kept.has(r.id));
    if (offline.length === 0) break;
    if (clock.now() >= deadline)
      throw new OperationError(
        `${node}: runner${offline.length === 1 ? "" : "s"} ${offline.map((r) => `#${r.id} (${r.status})`).join(", ")} not online ${Math.round(options.timeoutMs / 1000)} s after the node came back`,
        `Look at gitlab-runner on ${node}: systemctl status gitlab-runner; journalctl -u gitlab-runner.`,
      );
    ctx.progress?.(`${node}: waiting for ${offline.length} runner${offline.length === 1 ? "" : "s"} to be online`);
    await clock.sleep(options.pollMs);
  }
  return { keptPaused: report.keptPaused.map((k) => k.id) };
}

/**
 * The node whose runner runs this job, from the job's CI_RUNNER_DESCRIPTION (pifleet's runner
 * descriptions name the node); undefined outside CI or for a runner pifleet does not manage.
 */
export function nodeRunningThisJob(env: NodeJS.ProcessEnv, cluster: string): string | undefined {
  const id = parseDescription(env.CI_RUNNER_DESCRIPTION);
  return id && id.cluster === cluster ? id.node : undefined;
}
