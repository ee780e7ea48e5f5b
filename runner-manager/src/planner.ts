import { configChanges, type ManagedBlock, mergeConfig, parseConfig } from "./config-toml.js";
import { coverageNotes } from "./coverage.js";
import { parseDescription, runnerKey } from "./identity.js";
import { Secret } from "./secret.js";
import type { Action, Desired, DesiredNode, DesiredRunner, Note, Observed, ObservedNode, ObservedRunner, Plan } from "./types.js";

/**
 * The pure reconcile step: what the fleet wants against what GitLab and the
 * nodes have, as an ordered list of actions plus notes for a person. No I/O.
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
  if (reset) out.actions.push({ kind: "reset-token", key: want.key, node: want.node, runnerId: keep.id, reason: reset });
  out.managed.push({ runnerId: keep.id, settings: want.block, ...(reset ? { grant: PLACEHOLDER_GRANT } : {}) });
  return out;
}

function planNode(want: DesiredNode, owned: Map<string, ObservedRunner[]>, node: ObservedNode): NodePlan {
  const out: NodePlan = { actions: [], notes: [], managed: [] };
  if (want.runners.length === 0 && !node.blocks.some((b) => b.name.startsWith("pifleet "))) return out;
  for (const r of want.runners) {
    const p = planRunner(r, owned.get(r.key) ?? [], node);
    out.actions.push(...p.actions);
    out.notes.push(...p.notes);
    out.managed.push(...p.managed);
  }
  const current = parseConfig(node.configText, want.name);
  const changes = configChanges(current, mergeConfig(current, want.settings, out.managed));
  if (changes.length > 0) {
    const blocks = want.runners.map((r, i) => {
      const id = out.managed[i]?.runnerId ?? 0;
      return { key: r.key, runnerId: id === 0 ? null : id, settings: r.block };
    });
    out.actions.push({ kind: "write-config", node: want.name, settings: want.settings, blocks, changes });
  }
  return out;
}

const ORDER: Action["kind"][] = ["create", "update", "reset-token", "write-config", "pause", "drain", "delete"];

function sortActions(actions: Action[]): Action[] {
  const subject = (a: Action) => ("key" in a ? a.key : a.node);
  return [...actions].sort(
    (a, b) =>
      ORDER.indexOf(a.kind) - ORDER.indexOf(b.kind) ||
      subject(a).localeCompare(subject(b)) ||
      ("runnerId" in a && "runnerId" in b ? a.runnerId - b.runnerId : 0),
  );
}

export function planRunners(desired: Desired, observed: Observed): Plan {
  const owned = ownedByKey(desired.cluster, observed.runners);
  const nodes = new Map(observed.nodes.map((n) => [n.name, n]));
  const actions: Action[] = [];
  const notes: Note[] = [];
  const skippedNodes: Plan["skippedNodes"] = [];
  const wanted = new Set<string>();
  for (const want of desired.nodes) {
    for (const r of want.runners) wanted.add(r.key);
    const node = nodes.get(want.name);
    if (!node?.reachable) {
      const error = node?.error ?? "not observed";
      skippedNodes.push({ node: want.name, error });
      notes.push({ level: "warn", subject: want.name, message: `skipped: ${error}; its runners are left as they are` });
      continue;
    }
    const p = planNode(want, owned, node);
    actions.push(...p.actions);
    notes.push(...p.notes);
  }
  const fleetNodes = new Set(desired.nodes.map((n) => n.name));
  for (const [key, runners] of owned) {
    if (wanted.has(key)) continue;
    const [nodeName, pool] = key.split("/");
    const reason = fleetNodes.has(nodeName ?? "")
      ? `pool ${pool} no longer places a runner on ${nodeName}`
      : `node ${nodeName} has no runner pool in fleet.yaml any more`;
    for (const r of runners) actions.push(...retire(r, key, reason));
  }
  notes.push(...coverageNotes(desired));
  for (const r of observed.runners) if (r.notOurs) notes.push({ level: "warn", subject: r.description, message: r.notOurs });
  return { cluster: desired.cluster, actions: sortActions(actions), notes, skippedNodes };
}
