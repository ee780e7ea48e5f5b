import type { RollPlan, RollStep } from "./rolling-plan.js";
import type { RollReport } from "./rolling-run.js";

/** The roll's plan and outcome for people (pure). */

const stepText = (s: RollStep): string => {
  switch (s.kind) {
    case "hand-off":
      return `hand away ${s.what}`;
    case "release":
      return `may hold ${s.what} again`;
    case "act":
      return s.action === "upgrade-and-reboot" ? "upgrade packages, reboot" : s.action === "reboot" ? "reboot" : "restart docker";
    default:
      return s.kind.replace("-", " ");
  }
};

export function renderRollPlanText(plan: RollPlan): string {
  const lines: string[] = [];
  if (plan.nodes.length === 0) lines.push("Nothing to roll: no node needs a reboot, an engine restart or an upgrade.");
  else lines.push(`Roll ${plan.nodes.length} node${plan.nodes.length === 1 ? "" : "s"}, one at a time, in this order:`);
  for (const [i, n] of plan.nodes.entries()) {
    lines.push(`  ${i + 1}. ${n.node}: ${n.action} (${n.reasons.join(", ")})`);
    lines.push(`     ${n.steps.map(stepText).join(" → ")}`);
  }
  for (const s of plan.skipped) lines.push(`  skipped ${s.node}: ${s.reason}`);
  if (plan.unchanged.length > 0) lines.push(`  nothing to do on ${plan.unchanged.join(", ")}`);
  return lines.join("\n");
}

export function renderRollReportText(report: RollReport): string {
  const secs = (ms: number) => `${Math.round(ms / 1000)} s`;
  const perNode = report.rolled.map((node) => {
    const mine = report.timeline.filter((e) => e.node === node);
    const first = mine[0]?.at ?? 0;
    const last = mine.at(-1)?.at ?? first;
    return `  ${node}: rolled in ${secs(last - first)}`;
  });
  return [
    `Rolled ${report.rolled.length} node${report.rolled.length === 1 ? "" : "s"} in ${secs(report.durationMs)}.`,
    ...perNode,
    ...(report.failed ? [`  ${report.failed.node}: ${report.failed.step} failed: ${report.failed.message}`] : []),
    ...(report.notReached.length > 0 ? [`  not reached: ${report.notReached.join(", ")}`] : []),
  ].join("\n");
}
