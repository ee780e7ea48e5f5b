import type { Fleet } from "@pifleet/fleet";
import { REDACTED } from "@pifleet/io";
import { type AnsibleInventory, buildInventory } from "./inventory.js";
import { isSecretName } from "./mask.js";

/**
 * The configure part of a merge request's plan without touching a Pi (docs/security.md, design D):
 * per host, the Ansible variables the MR's fleet file gives it against the target branch's. Hosts
 * the file adds get a full converge; hosts it drops are drained and removed. Ansible's own check
 * (file diffs per Pi) needs root on the Pis, which an MR must not have. Pure.
 */

export interface VarChange {
  name: string;
  /** JSON of the value; absent: not set on that side. Secret-named values are masked. */
  from?: string;
  to?: string;
}

export type HostVarPlan =
  | { host: string; action: "converge"; reason: "new" }
  | { host: string; action: "remove" }
  | { host: string; action: "update"; changes: VarChange[] };

/** Tasks a protected `configure --check` found a host would change: drift since its last converge. */
export interface HostDrift {
  host: string;
  tasks: string[];
  unreachable?: boolean;
}

export interface VarPlan {
  hosts: HostVarPlan[];
  /** Hosts whose variables are the same on both sides. */
  unchanged: string[];
}

/** What a host ends up with: every group variable, its own on top, and the groups it is in (as `groups`). */
function hostVars(inventory: AnsibleInventory, host: string): Record<string, unknown> {
  const groups = Object.entries(inventory.all.children)
    .filter(([, g]) => host in g.hosts)
    .map(([name]) => name)
    .sort();
  return { ...inventory.all.vars, ...inventory.all.hosts[host], groups };
}

const shown = (name: string, value: unknown) => (isSecretName(name) ? REDACTED : JSON.stringify(value));

function varChanges(before: Record<string, unknown>, after: Record<string, unknown>): VarChange[] {
  const names = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return names.flatMap((name) => {
    const [a, b] = [before[name], after[name]];
    if (JSON.stringify(a) === JSON.stringify(b)) return [];
    return [{ name, ...(a === undefined ? {} : { from: shown(name, a) }), ...(b === undefined ? {} : { to: shown(name, b) }) }];
  });
}

/** The variable plan from the target branch's fleet (`base`) to the merge request's (`head`). */
export function planInventoryVariables(base: Fleet, head: Fleet): VarPlan {
  const [before, after] = [buildInventory(base), buildInventory(head)];
  const hosts: HostVarPlan[] = [];
  const unchanged: string[] = [];
  for (const host of Object.keys(after.all.hosts)) {
    if (!(host in before.all.hosts)) {
      hosts.push({ host, action: "converge", reason: "new" });
      continue;
    }
    const changes = varChanges(hostVars(before, host), hostVars(after, host));
    if (changes.length > 0) hosts.push({ host, action: "update", changes });
    else unchanged.push(host);
  }
  for (const host of Object.keys(before.all.hosts)) if (!(host in after.all.hosts)) hosts.push({ host, action: "remove" });
  return { hosts, unchanged };
}

const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\n/g, " ");

/** The plan as the MR note's configure section: one line per host, the changed variables, then recorded drift. */
export function renderVarPlanMarkdown(plan: VarPlan, drift: readonly HostDrift[] | null): string {
  const lines = ["## Configure: what the merge would change (Ansible inventory variables)", ""];
  if (plan.hosts.length === 0) lines.push("No host's Ansible variables change.");
  for (const h of plan.hosts) {
    if (h.action === "converge") lines.push(`- **${h.host}**: new host, full converge (every role of site.yml)`);
    else if (h.action === "remove")
      lines.push(`- **${h.host}**: leaves the fleet: drained and removed (its runners retired, its Swarm tasks moved)`);
    else {
      lines.push(`- **${h.host}**: ${h.changes.length} variable${h.changes.length === 1 ? "" : "s"} change`, "");
      lines.push("  | variable | from | to |", "  | --- | --- | --- |");
      for (const c of h.changes) lines.push(`  | \`${c.name}\` | ${cell(c.from ?? "(unset)")} | ${cell(c.to ?? "(unset)")} |`);
      lines.push("");
    }
  }
  if (plan.unchanged.length > 0) lines.push("", `Unchanged: ${plan.unchanged.join(", ")}.`);
  lines.push("", "### Drift recorded by the last observation", "");
  if (drift === null) lines.push("Not checked (the observation ran without `--drift`).");
  else if (drift.length === 0) lines.push("None: every host was as the default branch configures it.");
  else
    for (const d of drift)
      lines.push(`- **${d.host}**: ${d.unreachable ? "unreachable" : `${d.tasks.length} task(s) would change: ${d.tasks.join("; ")}`}`);
  lines.push(
    "",
    "_File diffs per Pi need root on the Pis, which merge-request jobs do not get: run `pifleet configure --check --diff` where root is allowed._",
  );
  return `${lines.join("\n")}\n`;
}
