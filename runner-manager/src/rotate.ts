import { OperationError } from "@pifleet/fleet";
import { type ApplyOptions, type ApplyReport, applyPlan } from "./apply.js";
import { desiredNode, listOwned, type RunnerContext } from "./context.js";
import { observeNode } from "./observe.js";
import type { Action, Plan } from "./types.js";

/**
 * rotate = reset each runner's authentication token through the API and write
 * the new one into the node's config.toml. The node first records that a
 * rotation is under way, so a crash between the reset and the write is
 * finished by the next `runners apply` instead of leaving a dead token.
 */

export interface RotateReport {
  rotated: { node: string; runners: number[] }[];
  failures: ApplyReport["failures"];
}

export async function rotateTokens(ctx: RunnerContext, nodeNames: string[] | undefined, options: ApplyOptions): Promise<RotateReport> {
  const targets = (nodeNames ?? ctx.desired.nodes.map((n) => n.name)).map((n) => desiredNode(ctx, n));
  const owned = await listOwned(ctx);
  const report: RotateReport = { rotated: [], failures: [] };
  for (const want of targets) {
    const node = await observeNode(ctx.nodes, want.name);
    if (!node.reachable) {
      report.failures.push({ subject: want.name, message: `${node.error}; not rotated` });
      continue;
    }
    const inConfig = new Set(node.blocks.map((b) => b.id));
    const ids = want.runners.map((r) => owned.find((o) => o.key === r.key && inConfig.has(o.id))?.id);
    if (ids.some((id) => id === undefined)) {
      report.failures.push({
        subject: want.name,
        message: "its runners are not all set up; run `pifleet runners apply` first, then rotate",
      });
      continue;
    }
    const actions: Action[] = want.runners.map((r, i) => ({
      kind: "reset-token",
      key: r.key,
      node: want.name,
      runnerId: ids[i] as number,
      reason: "rotate",
    }));
    actions.push({
      kind: "write-config",
      node: want.name,
      settings: want.settings,
      blocks: want.runners.map((r, i) => ({ key: r.key, runnerId: ids[i] as number, settings: r.block })),
      changes: ["tokens rotated"],
    });
    const plan: Plan = { cluster: ctx.fleet.cluster, actions, notes: [], skippedNodes: [] };
    await ctx.nodes.markPendingRotation(want.name, ids as number[]);
    const applied = await applyPlan(plan, ctx.api, ctx.nodes, options);
    report.failures.push(...applied.failures);
    if (applied.failures.length === 0) report.rotated.push({ node: want.name, runners: ids as number[] });
  }
  if (report.rotated.length === 0 && report.failures.length > 0) {
    throw new OperationError(`no token rotated: ${report.failures.map((f) => `${f.subject}: ${f.message}`).join("; ")}`);
  }
  return report;
}
