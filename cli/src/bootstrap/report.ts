import type { DesiredVariable, VariablePlan } from "@pifleet/sim";
import type { Reach } from "./probe.js";

/** What bootstrap shows (pure): reachability lines, the plan, the variables by name and flags — never a value. */

export type VariableAction = "create" | "update" | "unchanged" | "remove";

export interface VariableRow {
  key: string;
  action: VariableAction;
  variable_type: DesiredVariable["variable_type"] | string;
  /** `*`, or the environment whose jobs alone get the variable. */
  environment_scope: string;
  protected: boolean;
  masked: boolean;
}

export function variableRows(plan: VariablePlan): VariableRow[] {
  type Listed = Pick<DesiredVariable, "key" | "environment_scope" | "protected" | "masked"> & { variable_type: string };
  const rows = (list: readonly Listed[], action: VariableAction) =>
    list.map((v) => ({
      key: v.key,
      action,
      variable_type: v.variable_type,
      environment_scope: v.environment_scope,
      protected: v.protected,
      masked: v.masked,
    }));
  return [
    ...rows(plan.create, "create"),
    ...rows(plan.update, "update"),
    ...rows(plan.unchanged, "unchanged"),
    ...rows(plan.remove, "remove"),
  ];
}

const flags = (r: VariableRow) =>
  [
    r.variable_type === "file" ? "file" : "",
    r.protected ? "protected" : "",
    r.masked ? "masked" : "",
    r.environment_scope === "*" ? "" : `environment ${r.environment_scope} only`,
  ]
    .filter(Boolean)
    .join(", ") || "plain";

const MARK: Record<VariableAction, string> = { create: "+", update: "~", unchanged: "=", remove: "-" };

/** `  + PIFLEET_SSH_KEY  file, protected` — terraform-like marks, names and flags only. */
export function renderVariableRows(rows: readonly VariableRow[]): string {
  const width = Math.max(0, ...rows.map((r) => r.key.length));
  return rows
    .map((r) => `  ${MARK[r.action]} ${r.key.padEnd(width)}  ${flags(r)}${r.action === "unchanged" ? " (unchanged)" : ""}`)
    .join("\n");
}

export function renderReach(node: string, address: string, port: number, reach: Reach): string {
  return reach.reachable
    ? `  ${node}  ${address}:${port}  reachable (${reach.ms} ms)`
    : `  ${node}  ${address}:${port}  UNREACHABLE: ${reach.error ?? "no answer"}`;
}

export interface BootstrapPlan {
  cluster: string;
  gitlab: string;
  project: number | string;
  nodes: readonly string[];
  runners: number;
  variables: readonly VariableRow[];
}

/** The plan a person says yes to: what each step will do, in order. */
export function renderPlan(plan: BootstrapPlan): string {
  return [
    `Bootstrap of ${plan.cluster} (GitLab ${plan.gitlab}, project ${plan.project}):`,
    `  1. configure  site.yml on ${plan.nodes.join(", ")} (Ansible; what is already so stays)`,
    `  2. runners    ${plan.runners} runner${plan.runners === 1 ? "" : "s"}, one per node and pool: planned against GitLab after configure, then applied`,
    "  3. variables  the project's CI/CD variables:",
    renderVariableRows(plan.variables),
  ].join("\n");
}
