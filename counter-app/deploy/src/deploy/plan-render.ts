import { describePolicy, type RolloutPlan, type ServiceChange, type ServiceSpec } from "./plan.js";

const SYMBOL = { create: "+", update: "~", remove: "-" } as const;

function summaryLine(plan: RolloutPlan): string {
  if (plan.changes.length === 0) {
    const n = plan.unchanged.length;
    return n === 0
      ? "No changes: the stack has no services and the fleet asks for none."
      : `No changes: the Swarm runs the planned images and settings for all ${n} service${n === 1 ? "" : "s"}.`;
  }
  const count = (action: ServiceChange["action"]) => plan.changes.filter((c) => c.action === action).length;
  return `Plan: ${count("create")} to create, ${count("update")} to update, ${count("remove")} to remove, ${plan.unchanged.length} unchanged.`;
}

function placement(spec: ServiceSpec): string {
  const replicas = spec.replicas ?? 1;
  const where =
    spec.mode === "global"
      ? `one task on each of ${spec.nodes?.join(", ") || "no node"}`
      : `${replicas} replica${replicas === 1 ? "" : "s"}`;
  return spec.placement.length > 0 ? `${where}, placed by ${spec.placement.join(" and ")}` : where;
}

/** One line per change: what it does, and the details a reviewer checks. */
function details(c: ServiceChange): string[] {
  switch (c.action) {
    case "create":
      return [`image ${c.spec.image}`, placement(c.spec), `updates: ${describePolicy(c.spec.update)}`];
    case "update":
      return [...c.changes.map((f) => `${f.field}: ${f.from} → ${f.to}`), `rolled out ${describePolicy(c.update)}`];
    case "remove":
      return [`was ${c.image}`];
  }
}

/** Like `terraform plan`: one line per service, its changes indented under it. */
export function renderRolloutPlanText(plan: RolloutPlan): string {
  const lines = [`App rollout plan for stack ${plan.stack}`, ""];
  for (const c of plan.changes) {
    lines.push(`  ${SYMBOL[c.action]} ${c.action.padEnd(6)} ${c.service}`);
    for (const d of details(c)) lines.push(`             ${d}`);
  }
  if (plan.changes.length > 0) lines.push("");
  if (plan.warnings.length > 0) {
    lines.push("Notes:");
    for (const w of plan.warnings) lines.push(`  ! ${w.service}: ${w.message}`);
    lines.push("");
  }
  lines.push(summaryLine(plan));
  return lines.join("\n");
}

const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

/** For the merge-request note: a table with one row per service change, then the warnings. */
export function renderRolloutPlanMarkdown(plan: RolloutPlan): string {
  const lines = [`### App rollout — stack ${plan.stack}`, "", summaryLine(plan), ""];
  if (plan.changes.length > 0) {
    lines.push("| | action | service | change |", "| --- | --- | --- | --- |");
    for (const c of plan.changes) {
      lines.push(`| \`${SYMBOL[c.action]}\` | ${c.action} | \`${c.service}\` | ${details(c).map(cell).join("<br>")} |`);
    }
    lines.push("");
  }
  for (const w of plan.warnings) lines.push(`- ⚠️ **${w.service}**: ${cell(w.message)}`);
  if (plan.warnings.length > 0) lines.push("");
  return lines.join("\n");
}

export function rolloutPlanToJson(plan: RolloutPlan): RolloutPlan & { version: 1 } {
  return { version: 1, ...plan };
}
