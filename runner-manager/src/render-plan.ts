import type { Action, Plan, RunnerRestart } from "./types.js";

/** A plan for people (terminal and MR note) and for scripts (JSON). Plans never hold tokens. */

const SYMBOL: Record<Action["kind"], string> = {
  "mark-pending-rotation": "!",
  create: "+",
  update: "~",
  "reset-token": "~",
  "write-config": "~",
  pause: "‖",
  drain: "…",
  delete: "-",
};

const RESTART: Record<RunnerRestart, string> = {
  now: "restarts gitlab-runner (listen_address)",
  "after-this-job": "restarts gitlab-runner after this job (listen_address; this node runs the job)",
};

function subject(a: Action): string {
  if (a.kind === "write-config" || a.kind === "mark-pending-rotation") return a.node;
  return "runnerId" in a ? `${a.key} #${a.runnerId}` : a.key;
}

function detail(a: Action): string {
  switch (a.kind) {
    case "mark-pending-rotation":
      return `record that the tokens of ${a.runnerIds.map((id) => `#${id}`).join(", ")} are being rotated`;
    case "create":
      return `tags ${a.tags.join(",") || "(none)"}${a.runUntagged ? ", runs untagged jobs" : ""}${a.accessLevel === "ref_protected" ? ", protected refs only" : ""}`;
    case "update": {
      const what = [
        a.set.tags ? `tags → ${a.set.tags.join(",") || "(none)"}` : "",
        a.set.accessLevel ? (a.set.accessLevel === "ref_protected" ? "protected refs only" : "any ref") : "",
        a.set.runUntagged === undefined ? "" : a.set.runUntagged ? "runs untagged jobs" : "tagged jobs only",
      ];
      return `${what.filter(Boolean).join(", ")} (${a.reason})`;
    }
    case "reset-token":
      return a.reason;
    case "write-config":
      return `/etc/gitlab-runner/config.toml: ${a.changes.length} change${a.changes.length === 1 ? "" : "s"}${a.restart ? `; ${RESTART[a.restart]}` : ""}`;
    case "pause":
    case "delete":
      return a.reason;
    case "drain":
      return "wait until it has no running job";
  }
}

export interface PlanSummary {
  create: number;
  update: number;
  resetToken: number;
  writeConfig: number;
  delete: number;
  skippedNodes: number;
}

export function summarize(plan: Plan): PlanSummary {
  const count = (k: Action["kind"]) => plan.actions.filter((a) => a.kind === k).length;
  return {
    create: count("create"),
    update: count("update"),
    resetToken: count("reset-token"),
    writeConfig: count("write-config"),
    delete: count("delete"),
    skippedNodes: plan.skippedNodes.length,
  };
}

function summaryLine(plan: Plan): string {
  if (plan.actions.length === 0) return "No changes: runners in GitLab and config.toml on every reachable node match fleet.yaml.";
  const s = summarize(plan);
  return `Plan: ${s.create} to create, ${s.update} to update, ${s.resetToken} token reset${s.resetToken === 1 ? "" : "s"}, ${s.writeConfig} config write${s.writeConfig === 1 ? "" : "s"}, ${s.delete} to delete.`;
}

/** Like `terraform plan`: one line per action, config changes indented under their node. */
export function renderPlanText(plan: Plan): string {
  const lines = [`Runner plan for cluster ${plan.cluster}`, ""];
  const width = Math.max(0, ...plan.actions.map((a) => subject(a).length));
  for (const a of plan.actions) {
    lines.push(`  ${SYMBOL[a.kind]} ${a.kind.padEnd(12)} ${subject(a).padEnd(width)}  ${detail(a)}`);
    if (a.kind === "write-config") for (const c of a.changes) lines.push(`        ${c}`);
  }
  if (plan.actions.length > 0) lines.push("");
  if (plan.notes.length > 0) {
    lines.push("Notes:");
    for (const n of plan.notes) lines.push(`  ${n.level === "warn" ? "!" : "·"} ${n.subject}: ${n.message}`);
    lines.push("");
  }
  lines.push(summaryLine(plan));
  return lines.join("\n");
}

const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

/** For the merge-request note: a table, notes as a list, config diffs folded away. */
export function renderPlanMarkdown(plan: Plan): string {
  const lines = [`### Runner plan — ${plan.cluster}`, "", summaryLine(plan), ""];
  if (plan.actions.length > 0) {
    lines.push("| | action | runner / node | detail |", "| --- | --- | --- | --- |");
    for (const a of plan.actions) lines.push(`| \`${SYMBOL[a.kind]}\` | ${a.kind} | \`${cell(subject(a))}\` | ${cell(detail(a))} |`);
    lines.push("");
    for (const a of plan.actions) {
      if (a.kind !== "write-config") continue;
      lines.push(`<details><summary>config.toml on ${a.node}</summary>`, "", "```diff");
      for (const c of a.changes) lines.push(c.startsWith("+ ") || c.startsWith("- ") ? c : `~ ${c}`);
      lines.push("```", "", "</details>", "");
    }
  }
  if (plan.notes.length > 0) {
    for (const n of plan.notes) lines.push(`- ${n.level === "warn" ? "⚠️ " : ""}**${n.subject}**: ${cell(n.message)}`);
    lines.push("");
  }
  return lines.join("\n");
}

export function planToJson(plan: Plan): Plan & { summary: PlanSummary; version: 1 } {
  return { version: 1, ...plan, summary: summarize(plan) };
}
