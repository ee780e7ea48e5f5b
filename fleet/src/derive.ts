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

export interface JobCapacity {
  /** Jobs the node can run at once for this pool. */
  jobs: number;
  /** Which resource set the limit. */
  limitedBy: "memory" | "cpus";
}

/**
 * How many jobs of a pool a node can run at once: memory left after the OS
 * reserve divided by per-job memory, never more than the CPU count, and at
 * least one so a small node still takes work (one job may then swap-press; the
 * status command warns).
 */
export function jobCapacity(node: FleetNode, pool: RunnerPool, osReserveMiB: number): JobCapacity {
  const byMemory = Math.floor((node.memoryMiB - osReserveMiB) / pool.jobMemoryMiB);
  if (byMemory < node.cpus) return { jobs: Math.max(1, byMemory), limitedBy: "memory" };
  return { jobs: node.cpus, limitedBy: "cpus" };
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

/**
 * The runner process's `concurrent` on a node: jobs of its smallest pool that
 * fit in memory, capped at the CPU count; per-pool `limit`s come from jobCapacity.
 */
export function nodeConcurrency(fleet: Fleet, node: FleetNode): number {
  const pools = poolsByNode(fleet).get(node.name) ?? [];
  if (pools.length === 0) return 0;
  return Math.max(...pools.map((p) => jobCapacity(node, p, fleet.runners.osReserveMiB).jobs));
}
