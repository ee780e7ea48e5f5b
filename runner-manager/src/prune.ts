import { type ApplyOptions, type ApplyReport, applyPlan } from "./apply.js";
import type { RunnerContext } from "./context.js";
import { planFleet } from "./reconcile.js";
import type { Plan } from "./types.js";

/**
 * prune = delete pifleet's runners whose node or pool left fleet.yaml, and
 * (unless told not to) its stale ones: no contact for over 7 days. Each is
 * paused and drained first, and only runners whose maintenance_note carries
 * pifleet's marker are touched. A stale runner of a node still in the fleet
 * is recreated by the next `runners apply` once the node is back.
 */

export interface PruneOptions extends ApplyOptions {
  stale: boolean;
  /** Plan only. */
  dryRun?: boolean;
}

export async function prune(ctx: RunnerContext, options: PruneOptions): Promise<{ plan: Plan; report?: ApplyReport }> {
  const { plan } = await planFleet(ctx.fleet, ctx.api, ctx.nodes, { prune: { stale: options.stale } });
  if (options.dryRun || plan.actions.length === 0) return { plan };
  return { plan, report: await applyPlan(plan, ctx.api, ctx.nodes, options) };
}
