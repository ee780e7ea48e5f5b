import { Secret } from "@pifleet/io";
import { configChanges, type ManagedBlock, mergeConfig, parseConfig } from "./config-toml.js";
import { coverageNotes } from "./coverage.js";
import { desiredNode } from "./desired.js";
import { parseDescription, runnerKey } from "./identity.js";
import { deferredRestartNote, runnerRestart } from "./restart.js";
import type {
  Action,
  Desired,
  DesiredNode,
  DesiredRunner,
  Note,
  Observed,
  ObservedNode,
  ObservedRunner,
  Plan,
  PlanOptions,
} from "./types.js";

/**
 * The one runner planner, pure: what the fleet wants against what GitLab and
 * the nodes have, as an ordered list of actions plus notes for a person. The
 * full reconcile by default; `prune` and `rotate` narrow it to that operation.
 */

const PLACEHOLDER_GRANT = { token: new Secret("planned"), obtainedAt: new Date(0), expiresAt: null };

/** pifleet's runners of this cluster, by node/pool key, oldest first. */
export function ownedByKey(cluster: string, runners: ObservedRunner[]): Map<string, ObservedRunner[]> {
  const out = new Map<string, ObservedRunner[]>();
  for (const r of [...runners].sort((a, b) => a.id - b.id)) {
    const id = parseDescription(r.description);
    if (!id || id.cluster !== cluster || r.notOurs) continue;
    const key = runnerKey(id);
    out.set(key, [...(out.get(key) ?? []), r]);
  }
  return out;
}

function retire(r: ObservedRunner, key: string, reason: string): Action[] {
  return [
    ...(r.paused ? [] : [{ kind: "pause", key, runnerId: r.id, reason } as const]),
    { kind: "drain", key, runnerId: r.id } as const,
    { kind: "delete", key, runnerId: r.id, reason } as const,
  ];
}

function pauseNote(r: ObservedRunner, key: string): Note {
  return r.pausedByPifleet
    ? { level: "info", subject: key, message: `runner #${r.id} is drained by pifleet — kept paused (pifleet runners undrain to resume)` }
    : { level: "info", subject: key, message: `runner #${r.id} was paused by a person in the GitLab UI — kept paused` };
}

interface NodePlan {
  actions: Action[];
  notes: Note[];
  managed: ManagedBlock[];
}

function planRunner(want: DesiredRunner, owned: ObservedRunner[], node: ObservedNode): NodePlan {
  const out: NodePlan = { actions: [], notes: [], managed: [] };
  const inConfig = new Set(node.blocks.map((b) => b.id));
  if (owned.length === 0) {
    const { key, node: nodeName, pool, description, tags, runUntagged, accessLevel, maintenanceNote } = want;
    out.actions.push({ kind: "create", key, node: nodeName, pool, description, tags, runUntagged, accessLevel, maintenanceNote });
    out.managed.push({ runnerId: 0, settings: want.block, grant: PLACEHOLDER_GRANT });
    return out;
  }
  const keep = owned.find((r) => inConfig.has(r.id)) ?? (owned[0] as ObservedRunner);
  for (const dup of owned.filter((r) => r !== keep)) out.actions.push(...retire(dup, want.key, `duplicate of runner #${keep.id}`));
  if (keep.description !== want.description) {
    out.actions.push({
      kind: "update",
      key: want.key,
      runnerId: keep.id,
      set: { description: want.description, tags: want.tags, runUntagged: want.runUntagged, accessLevel: want.accessLevel },
      reason: "its tags or protection in fleet.yaml changed",
    });
  } else if (!keep.tagPools.includes(want.pool)) {
    out.actions.push({
      kind: "update",
      key: want.key,
      runnerId: keep.id,
      set: { tags: want.tags },
      reason: "a tag was removed in GitLab (change tags in fleet.yaml, not in the UI)",
    });
  }
  if (keep.paused) out.notes.push(pauseNote(keep, want.key));
  let reset: string | undefined;
  if (!inConfig.has(keep.id))
    reset = `runner #${keep.id} is in GitLab but not in ${want.node}'s config.toml; its token cannot be read back, so it is reset`;
  else if (node.pendingRotation.includes(keep.id)) reset = `a token rotation of runner #${keep.id} did not finish; it is reset again`;
  else if (node.rejectedTokens?.includes(keep.id))
    reset = `the token in ${want.node}'s config.toml is not runner #${keep.id}'s live one (GitLab refuses it); it is reset and rewritten`;
  if (reset) out.actions.push({ kind: "reset-token", key: want.key, node: want.node, runnerId: keep.id, reason: reset });
  out.managed.push({ runnerId: keep.id, settings: want.block, ...(reset ? { grant: PLACEHOLDER_GRANT } : {}) });
  return out;
}

function planNode(want: DesiredNode, owned: Map<string, ObservedRunner[]>, node: ObservedNode, selfNode?: string): NodePlan {
  const out: NodePlan = { actions: [], notes: [], managed: [] };
  if (want.runners.length === 0 && !node.blocks.some((b) => b.name.startsWith("pifleet "))) return out;
  for (const r of want.runners) {
    const p = planRunner(r, owned.get(r.key) ?? [], node);
    out.actions.push(...p.actions);
    out.notes.push(...p.notes);
    out.managed.push(...p.managed);
  }
  const current = parseConfig(node.configText, want.name);
  const next = mergeConfig(current, want.settings, out.managed);
  const changes = configChanges(current, next);
  if (changes.length > 0) {
    const blocks = want.runners.map((r, i) => {
      const id = out.managed[i]?.runnerId ?? 0;
      return { key: r.key, runnerId: id === 0 ? null : id, settings: r.block };
    });
    const restart = runnerRestart(current, next, want.name, selfNode);
    out.actions.push({ kind: "write-config", node: want.name, settings: want.settings, blocks, changes, ...(restart ? { restart } : {}) });
    if (restart === "after-this-job") out.notes.push(deferredRestartNote(want.name));
  }
  return out;
}

// A rotation's mark goes first: the node must record it before any of its tokens is reset.
const ORDER: Action["kind"][] = ["mark-pending-rotation", "create", "update", "reset-token", "write-config", "pause", "drain", "delete"];

function sortActions(actions: Action[]): Action[] {
  const subject = (a: Action) => ("key" in a ? a.key : a.node);
  return [...actions].sort(
    (a, b) =>
      ORDER.indexOf(a.kind) - ORDER.indexOf(b.kind) ||
      subject(a).localeCompare(subject(b)) ||
      ("runnerId" in a && "runnerId" in b ? a.runnerId - b.runnerId : 0),
  );
}

/** pifleet runners fleet.yaml no longer wants, each paused (unless it is), drained, deleted. */
function retireUnwanted(desired: Desired, owned: Map<string, ObservedRunner[]>): Action[] {
  const wanted = new Set(desired.nodes.flatMap((n) => n.runners.map((r) => r.key)));
  const fleetNodes = new Set(desired.nodes.map((n) => n.name));
  const actions: Action[] = [];
  for (const [key, runners] of owned) {
    if (wanted.has(key)) continue;
    const [nodeName, pool] = key.split("/");
    const reason = fleetNodes.has(nodeName ?? "")
      ? `pool ${pool} no longer places a runner on ${nodeName}`
      : `node ${nodeName} has no runner pool in fleet.yaml any more`;
    for (const r of runners) actions.push(...retire(r, key, reason));
  }
  return actions;
}

function lookAlikeNotes(observed: Observed): Note[] {
  return observed.runners.flatMap((r): Note[] => (r.notOurs ? [{ level: "warn", subject: r.description, message: r.notOurs }] : []));
}

function planReconcile(desired: Desired, observed: Observed, selfNode?: string): Plan {
  const owned = ownedByKey(desired.cluster, observed.runners);
  const nodes = new Map(observed.nodes.map((n) => [n.name, n]));
  const actions: Action[] = [];
  const notes: Note[] = [];
  const skippedNodes: Plan["skippedNodes"] = [];
  for (const want of desired.nodes) {
    const node = nodes.get(want.name);
    if (!node?.reachable) {
      const error = node?.error ?? "not observed";
      skippedNodes.push({ node: want.name, error });
      notes.push({ level: "warn", subject: want.name, message: `skipped: ${error}; its runners are left as they are` });
      continue;
    }
    const p = planNode(want, owned, node, selfNode);
    actions.push(...p.actions);
    notes.push(...p.notes);
  }
  actions.push(...retireUnwanted(desired, owned));
  notes.push(...coverageNotes(desired), ...lookAlikeNotes(observed));
  return { cluster: desired.cluster, actions: sortActions(actions), notes, skippedNodes };
}

/** `runners prune`: only removals, of runners fleet.yaml no longer wants and (with `stale`) of stale ones; nodes are not needed. */
function planPrune(desired: Desired, observed: Observed, stale: boolean): Plan {
  const owned = ownedByKey(desired.cluster, observed.runners);
  const actions = retireUnwanted(desired, owned);
  if (stale) {
    const wanted = new Set(desired.nodes.flatMap((n) => n.runners.map((r) => r.key)));
    for (const [key, runners] of owned) {
      if (!wanted.has(key)) continue; // already retired above
      for (const r of runners)
        if (r.status === "stale") actions.push(...retire(r, key, "stale: no contact with GitLab for more than 7 days"));
    }
  }
  return { cluster: desired.cluster, actions: sortActions(actions), notes: lookAlikeNotes(observed), skippedNodes: [] };
}

/**
 * `runners rotate`: per node, mark the rotation on the node, reset each runner's token, write the new ones.
 * A node that cannot be read or whose runners are not all set up is skipped with what to do.
 */
function planRotation(desired: Desired, observed: Observed, nodeNames: string[] | undefined): Plan {
  const targets = (nodeNames ?? desired.nodes.map((n) => n.name)).map((n) => desiredNode(desired, n));
  const owned = ownedByKey(desired.cluster, observed.runners);
  const nodes = new Map(observed.nodes.map((n) => [n.name, n]));
  const actions: Action[] = [];
  const skippedNodes: Plan["skippedNodes"] = [];
  for (const want of targets) {
    if (want.runners.length === 0) continue;
    const node = nodes.get(want.name);
    if (!node?.reachable) {
      skippedNodes.push({ node: want.name, error: `${node?.error ?? "not observed"}; not rotated` });
      continue;
    }
    const inConfig = new Set(node.blocks.map((b) => b.id));
    const ids = want.runners.map((r) => owned.get(r.key)?.find((o) => inConfig.has(o.id))?.id);
    if (!ids.every((id): id is number => id !== undefined)) {
      skippedNodes.push({ node: want.name, error: "its runners are not all set up; run `pifleet runners apply` first, then rotate" });
      continue;
    }
    actions.push({ kind: "mark-pending-rotation", node: want.name, runnerIds: ids });
    for (const [i, r] of want.runners.entries())
      actions.push({ kind: "reset-token", key: r.key, node: want.name, runnerId: ids[i] as number, reason: "rotate" });
    actions.push({
      kind: "write-config",
      node: want.name,
      settings: want.settings,
      blocks: want.runners.map((r, i) => ({ key: r.key, runnerId: ids[i] as number, settings: r.block })),
      changes: ["tokens rotated"],
    });
  }
  const notes = skippedNodes.map((s): Note => ({ level: "warn", subject: s.node, message: s.error }));
  return { cluster: desired.cluster, actions: sortActions(actions), notes, skippedNodes };
}

export function planRunners(desired: Desired, observed: Observed, options: PlanOptions = {}): Plan {
  if (options.prune && options.rotate) throw new Error("internal: a plan is a prune or a rotation, not both");
  if (options.prune) return planPrune(desired, observed, options.prune.stale);
  if (options.rotate) return planRotation(desired, observed, options.rotate.nodes);
  return planReconcile(desired, observed, options.selfNode);
}

/** The nodes whose config.toml a plan with these options reads: a prune needs none, a rotation only its targets. */
export function nodesToObserve(desired: Desired, options: PlanOptions = {}): string[] {
  if (options.prune) return [];
  if (options.rotate?.nodes) return options.rotate.nodes.map((n) => desiredNode(desired, n).name);
  return desired.nodes.map((n) => n.name);
}
