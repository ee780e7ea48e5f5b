import { OperationError } from "@pifleet/fleet";
import { observedBlocks, parseConfig } from "./config-toml.js";
import type { GitlabApi } from "./gitlab-api.js";
import { parseDescription, parseNote, sameIdentity } from "./identity.js";
import { mapLimit } from "./map-limit.js";
import { type NodeAccess, NodeError } from "./node-access.js";
import { ownedByKey } from "./planner.js";
import { checkTokens, type NodeTokens } from "./token-check.js";
import type { Desired, Observed, ObservedNode, ObservedRunner } from "./types.js";

/**
 * Reads actual state: GitLab's runner list (one request per 100 runners),
 * one filtered list per distinct pool tag set (so tag drift costs pages, not a
 * GET per runner), the maintenance_note of paused runners only, every
 * node's config.toml in parallel, and whether each pifleet token in those is
 * its runner's live one (token-check.ts). An unreachable node is recorded, not fatal.
 */

async function readNode(nodes: NodeAccess, name: string): Promise<NodeTokens> {
  try {
    const state = await nodes.read(name);
    const blocks = observedBlocks(parseConfig(state.configText, name));
    const node = { name, reachable: true, configText: state.configText, blocks, pendingRotation: state.pendingRotation };
    return {
      node,
      ...(state.systemId ? { systemId: state.systemId } : {}),
      ...(state.runnerActive === undefined ? {} : { runnerActive: state.runnerActive }),
    };
  } catch (err) {
    // A node that is down or holds unreadable TOML is recorded; anything else (a missing ssh, a bug) stops the run.
    if (!(err instanceof NodeError) && !(err instanceof OperationError)) throw err;
    return { node: { name, reachable: false, error: (err as Error).message, configText: null, blocks: [], pendingRotation: [] } };
  }
}

export async function observeNode(nodes: NodeAccess, name: string): Promise<ObservedNode> {
  return (await readNode(nodes, name)).node;
}

export async function observeRunners(desired: Desired, api: GitlabApi): Promise<ObservedRunner[]> {
  const all = await api.listRunners();
  const tagPools = new Map<number, string[]>(all.map((r) => [r.id, []]));
  const poolTags = new Map<string, string[]>();
  for (const n of desired.nodes) for (const r of n.runners) poolTags.set(r.pool, r.tags);
  const bySet = new Map<string, string[]>();
  for (const [pool, tags] of poolTags) bySet.set(tags.join(","), [...(bySet.get(tags.join(",")) ?? []), pool]);
  for (const [set, pools] of bySet) {
    const having = set === "" ? all : await api.listRunners({ tags: set.split(",") });
    for (const r of having) tagPools.get(r.id)?.push(...pools);
  }
  const runners: ObservedRunner[] = all.map((r) => ({ ...r, tagPools: tagPools.get(r.id) ?? [] }));
  // The list has no maintenance_note. Read it only for runners pifleet would act on or explain:
  // paused ones (who paused?), duplicates and runners to retire (are they really ours?).
  const wanted = new Set(desired.nodes.flatMap((n) => n.runners.map((r) => r.key)));
  const suspects = [...ownedByKey(desired.cluster, runners)].flatMap(([key, group]) =>
    group.filter((r) => r.paused || group.length > 1 || !wanted.has(key)),
  );
  await readMarkers(suspects, api);
  return runners;
}

/** Reads each runner's maintenance_note: one without pifleet's marker for the identity its description claims is not ours. */
async function readMarkers(runners: ObservedRunner[], api: GitlabApi): Promise<void> {
  await mapLimit(runners, 4, async (r) => {
    const detail = await api.getRunner(r.id);
    const note = parseNote(detail?.maintenanceNote);
    const expected = parseDescription(r.description);
    if (!note || !expected || !sameIdentity(note.identity, expected)) {
      r.notOurs = `runner #${r.id} is described like pifleet's but its maintenance note has no matching pifleet marker — left alone`;
    }
    r.pausedByPifleet = note?.pausedByPifleet ?? false;
  });
}

/**
 * Runners the plan would take over by resetting their token: pifleet-described, not in their
 * reachable node's config.toml, marker not read yet. Rare (a lost config.toml, a look-alike
 * made in the UI), so one GET each keeps a no-op cheap.
 */
function unconfigured(cluster: string, runners: ObservedRunner[], nodes: ObservedNode[]): ObservedRunner[] {
  const configured = new Map(nodes.filter((n) => n.reachable).map((n) => [n.name, new Set(n.blocks.map((b) => b.id))]));
  return [...ownedByKey(cluster, runners)].flatMap(([key, group]) => {
    const ids = configured.get(key.split("/")[0] ?? "");
    return ids ? group.filter((r) => r.pausedByPifleet === undefined && !ids.has(r.id)) : [];
  });
}

export async function observe(desired: Desired, api: GitlabApi, nodes: NodeAccess, nodeNames?: string[]): Promise<Observed> {
  const names = nodeNames ?? desired.nodes.map((n) => n.name);
  const [runners, read] = await Promise.all([observeRunners(desired, api), mapLimit(names, 8, (n) => readNode(nodes, n))]);
  const observedNodes = read.map((r) => r.node);
  await readMarkers(unconfigured(desired.cluster, runners, observedNodes), api);
  const ours = new Set([...ownedByKey(desired.cluster, runners).values()].flat().map((r) => r.id));
  await checkTokens(read, ours, api);
  return { runners, nodes: observedNodes };
}
