import { selectNodeNames } from "./checks.js";
import type { Fleet, FleetNode, Role, RunnerPool } from "./schema.js";

/** The nodes a runner pool places runners on, in fleet order. */
export function poolNodes(fleet: Fleet, pool: RunnerPool): FleetNode[] {
  const names = new Set(selectNodeNames(pool as unknown as Record<string, unknown>, fleet.nodes));
  return fleet.nodes.filter((n) => names.has(n.name));
}

export function nodesWithRole(fleet: Fleet, role: Role): FleetNode[] {
  return fleet.nodes.filter((n) => n.roles.includes(role));
}

export function findNode(fleet: Fleet, name: string): FleetNode | undefined {
  return fleet.nodes.find((n) => n.name === name);
}

/** Per node: the runner pools that place a runner on it. */
export function poolsByNode(fleet: Fleet): Map<string, RunnerPool[]> {
  const out = new Map<string, RunnerPool[]>(fleet.nodes.map((n) => [n.name, []]));
  for (const pool of fleet.pools) for (const n of poolNodes(fleet, pool)) out.get(n.name)?.push(pool);
  return out;
}

/** Per node: the CI tags its runners serve, sorted. */
export function tagsByNode(fleet: Fleet): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [name, pools] of poolsByNode(fleet)) out.set(name, [...new Set(pools.flatMap((p) => p.tags))].sort());
  return out;
}

/** Every tag some pool serves, with the nodes serving it. */
export function nodesByTag(fleet: Fleet): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [node, tags] of tagsByNode(fleet)) for (const t of tags) out.set(t, [...(out.get(t) ?? []), node]);
  return out;
}
