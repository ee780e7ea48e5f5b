import { OperationError } from "@pifleet/fleet";
import { type Clock, systemClock } from "@pifleet/io";
import { listOwned, type RunnerContext } from "./context.js";
import { tagsLostByPausing } from "./coverage.js";
import { desiredNode } from "./desired.js";
import { checkOwnership, waitForNoRunningJobs } from "./guard.js";
import { renderNote } from "./identity.js";

/**
 * drain = pause the node's runners in GitLab (so no new job arrives), wait
 * until none of them runs a job, then stop gitlab-runner with SIGQUIT (which
 * also lets a job picked up in the last long-poll finish). undrain reverses it.
 */

export interface DrainOptions {
  timeoutMs: number;
  pollMs: number;
  /** Drain even if a tag would be left with no active runner. */
  force?: boolean;
  /** The system clock unless a test passes a manual one. */
  clock?: Clock;
}

export interface DrainReport {
  node: string;
  paused: { id: number; key: string }[];
  waitedMs: number;
  stopped: boolean;
}

export async function drainNode(ctx: RunnerContext, node: string, options: DrainOptions): Promise<DrainReport> {
  desiredNode(ctx.desired, node);
  const owned = await listOwned(ctx);
  const mine = owned.filter((r) => r.node === node);
  if (!options.force) {
    const active = new Set(owned.filter((r) => !r.paused).map((r) => r.key));
    const lost = tagsLostByPausing(ctx.desired, [node], (_n, key) => active.has(key));
    if (lost.length > 0) {
      throw new OperationError(
        `draining ${node} would leave tag${lost.length === 1 ? "" : "s"} ${lost.join(", ")} with no active runner`,
        `Jobs with ${lost.length === 1 ? "that tag" : "those tags"} would wait until undrain. Rerun with --force if that is what you want.`,
      );
    }
  }
  const clock = options.clock ?? systemClock;
  const started = clock.now();
  const paused: DrainReport["paused"] = [];
  for (const r of mine) {
    const o = await checkOwnership(ctx.api, r.id, ctx.fleet.cluster);
    if (!o.owned) continue;
    if (!r.paused) {
      // Recording that pifleet paused it lets undrain resume it; a pause a person made stays theirs.
      await ctx.api.updateRunner(r.id, { paused: true, maintenanceNote: renderNote({ ...o.note, pausedByPifleet: true }) });
    }
    paused.push({ id: r.id, key: r.key });
    ctx.progress?.(`paused runner #${r.id} (${r.key})`);
  }
  for (const r of paused) {
    const left = await waitForNoRunningJobs(ctx.api, r.id, {
      timeoutMs: Math.max(0, options.timeoutMs - (clock.now() - started)),
      pollMs: options.pollMs,
      clock,
      onWait: (n) =>
        ctx.progress?.(
          `${node}: waiting for ${n} running job${n === 1 ? "" : "s"} on runner #${r.id} (${Math.round((clock.now() - started) / 1000)}s)`,
        ),
    });
    if (left > 0) {
      throw new OperationError(
        `${node}: runner #${r.id} (${r.key}) still runs ${left} job${left === 1 ? "" : "s"} after ${Math.round(options.timeoutMs / 1000)}s; gitlab-runner was not stopped`,
        `The node's runners stay paused, so no new job starts. Rerun \`pifleet runners drain ${node}\` (maybe with a longer --timeout), or \`pifleet runners undrain ${node}\` to resume.`,
      );
    }
  }
  ctx.progress?.(`${node}: no running jobs; stopping gitlab-runner (SIGQUIT)`);
  await ctx.nodes.stopRunner(node);
  return { node, paused, waitedMs: clock.now() - started, stopped: true };
}

export interface UndrainReport {
  node: string;
  resumed: { id: number; key: string }[];
  keptPaused: { id: number; key: string; reason: string }[];
  started: boolean;
}

/** Starts gitlab-runner and unpauses the runners pifleet paused; a pause made by a person stays. */
export async function undrainNode(ctx: RunnerContext, node: string): Promise<UndrainReport> {
  desiredNode(ctx.desired, node);
  await ctx.nodes.startRunner(node);
  const report: UndrainReport = { node, resumed: [], keptPaused: [], started: true };
  for (const r of (await listOwned(ctx)).filter((x) => x.node === node && x.paused)) {
    const o = await checkOwnership(ctx.api, r.id, ctx.fleet.cluster);
    if (!o.owned) continue;
    if (!o.note.pausedByPifleet) {
      report.keptPaused.push({ id: r.id, key: r.key, reason: "paused by a person in the GitLab UI; resume it there" });
      continue;
    }
    await ctx.api.updateRunner(r.id, { paused: false, maintenanceNote: renderNote({ ...o.note, pausedByPifleet: false }) });
    report.resumed.push({ id: r.id, key: r.key });
    ctx.progress?.(`resumed runner #${r.id} (${r.key})`);
  }
  return report;
}
