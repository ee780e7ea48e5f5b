import { OperationError } from "@pifleet/fleet";
import { type ApplyOptions, type ApplyReport, applyPlan } from "./apply.js";
import type { RunnerContext } from "./context.js";
import { planFleet } from "./reconcile.js";

/**
 * rotate = reset each runner's authentication token through the API and write
 * the new one into the node's config.toml. The plan marks the rotation on the
 * node before any reset, so a crash between the reset and the write is
 * finished by the next `runners apply` instead of leaving a dead token.
 */

export interface RotateReport {
  rotated: { node: string; runners: number[] }[];
  failures: ApplyReport["failures"];
}

export async function rotateTokens(ctx: RunnerContext, nodeNames: string[] | undefined, options: ApplyOptions): Promise<RotateReport> {
  const { plan } = await planFleet(ctx.fleet, ctx.api, ctx.nodes, { rotate: nodeNames ? { nodes: nodeNames } : {} });
  const applied = await applyPlan(plan, ctx.api, ctx.nodes, options);
  const failures = [...plan.skippedNodes.map((s) => ({ subject: s.node, message: s.error })), ...applied.failures];
  // A failure's subject is the node (mark, write) or one of its runners' node/pool keys (reset).
  const failed = (node: string) => failures.some((f) => f.subject === node || f.subject.startsWith(`${node}/`));
  const rotated = plan.actions.flatMap((a) =>
    a.kind === "mark-pending-rotation" && !failed(a.node) ? [{ node: a.node, runners: a.runnerIds }] : [],
  );
  if (rotated.length === 0 && failures.length > 0) {
    throw new OperationError(`no token rotated: ${failures.map((f) => `${f.subject}: ${f.message}`).join("; ")}`);
  }
  return { rotated, failures };
}
