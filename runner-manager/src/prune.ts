import { type ApplyOptions, type ApplyReport, applyPlan } from "./apply.js";
import { listOwned, type RunnerContext } from "./context.js";
import type { Action, Plan } from "./types.js";

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

export async function prunePlan(ctx: RunnerContext, stale: boolean): Promise<Plan> {
  const wanted = new Set(ctx.desired.nodes.flatMap((n) => n.runners.map((r) => r.key)));
  const fleetNodes = new Set(ctx.desired.nodes.map((n) => n.name));
  const actions: Action[] = [];
  for (const r of await listOwned(ctx)) {
    let reason: string | undefined;
    if (!fleetNodes.has(r.node)) reason = `node ${r.node} has no runner pool in fleet.yaml any more`;
    else if (!wanted.has(r.key)) reason = `pool ${r.pool} no longer places a runner on ${r.node}`;
    else if (stale && r.status === "stale") reason = "stale: no contact with GitLab for more than 7 days";
    if (!reason) continue;
    if (!r.paused) actions.push({ kind: "pause", key: r.key, runnerId: r.id, reason });
    actions.push({ kind: "drain", key: r.key, runnerId: r.id }, { kind: "delete", key: r.key, runnerId: r.id, reason });
  }
  const order = ["pause", "drain", "delete"];
  actions.sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind));
  return { cluster: ctx.fleet.cluster, actions, notes: [], skippedNodes: [] };
}

export async function prune(ctx: RunnerContext, options: PruneOptions): Promise<{ plan: Plan; report?: ApplyReport }> {
  const plan = await prunePlan(ctx, options.stale);
  if (options.dryRun || plan.actions.length === 0) return { plan };
  return { plan, report: await applyPlan(plan, ctx.api, ctx.nodes, options) };
}
