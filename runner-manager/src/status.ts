import { listOwned, type RunnerContext } from "./context.js";
import { coverageNotes } from "./coverage.js";
import { parseNote } from "./identity.js";
import { mapLimit } from "./map-limit.js";
import { NodeError } from "./node-access.js";
import { observeNode } from "./observe.js";
import type { Note, RunnerStatus } from "./types.js";

/** `runners status`: per node its reachability and service, per runner GitLab's view and its running jobs. */

export interface RunnerRow {
  key: string;
  pool: string;
  id?: number;
  status?: RunnerStatus;
  paused?: boolean;
  pausedBy?: "person" | "pifleet";
  tags?: string[];
  runningJobs?: number;
  limit: number;
  inConfig: boolean;
}

export interface NodeRow {
  node: string;
  reachable: boolean;
  error?: string;
  /** "unknown" when the check itself failed (serviceError says why); absent when the node is unreachable. */
  service?: "active" | "inactive" | "unknown";
  serviceError?: string;
  concurrent: number;
  runners: RunnerRow[];
}

export interface FleetRunnerStatus {
  cluster: string;
  nodes: NodeRow[];
  /** pifleet runners no node/pool in fleet.yaml wants any more (`runners prune` removes them). */
  strays: { id: number; key: string; status: RunnerStatus }[];
  notes: Note[];
}

export async function fleetRunnerStatus(ctx: RunnerContext): Promise<FleetRunnerStatus> {
  const owned = await listOwned(ctx);
  const details = new Map(
    await mapLimit(owned, 4, async (r) => {
      const [detail, jobs] = await Promise.all([ctx.api.getRunner(r.id), ctx.api.runningJobs(r.id)]);
      return [r.id, { detail, jobs: jobs.length }] as const;
    }),
  );
  const nodes = await mapLimit(ctx.desired.nodes, 8, async (want): Promise<NodeRow> => {
    const obs = await observeNode(ctx.nodes, want.name);
    let service: NodeRow["service"];
    let serviceError: string | undefined;
    if (obs.reachable) {
      try {
        service = (await ctx.nodes.runnerActive(want.name)) ? "active" : "inactive";
      } catch (err) {
        // A failed check is not an inactive service: show it as unknown, with the node's error.
        if (!(err instanceof NodeError)) throw err;
        service = "unknown";
        serviceError = err.message;
      }
    }
    const inConfig = new Set(obs.blocks.map((b) => b.id));
    const runners = want.runners.map((r): RunnerRow => {
      const mine = owned.filter((o) => o.key === r.key);
      const o = mine.find((x) => inConfig.has(x.id)) ?? mine[0];
      if (!o) return { key: r.key, pool: r.pool, limit: r.block.limit, inConfig: false };
      const d = details.get(o.id);
      return {
        key: r.key,
        pool: r.pool,
        id: o.id,
        status: o.status,
        paused: o.paused,
        ...(o.paused ? { pausedBy: parseNote(d?.detail?.maintenanceNote)?.pausedByPifleet ? "pifleet" : "person" } : {}),
        tags: d?.detail?.tags ?? [],
        runningJobs: d?.jobs ?? 0,
        limit: r.block.limit,
        inConfig: inConfig.has(o.id),
      };
    });
    return {
      node: want.name,
      reachable: obs.reachable,
      ...(obs.error ? { error: obs.error } : {}),
      ...(service ? { service } : {}),
      ...(serviceError ? { serviceError } : {}),
      concurrent: want.settings.concurrent,
      runners,
    };
  });
  const wanted = new Set(ctx.desired.nodes.flatMap((n) => n.runners.map((r) => r.key)));
  const strays = owned.filter((o) => !wanted.has(o.key)).map((o) => ({ id: o.id, key: o.key, status: o.status }));
  const active = new Map<string, string[]>();
  for (const n of nodes)
    for (const r of n.runners) {
      for (const t of ctx.desired.nodes.find((d) => d.name === n.node)?.runners.find((d) => d.key === r.key)?.tags ?? []) {
        const on = n.reachable && r.id !== undefined && !r.paused && r.status !== "stale";
        active.set(t, [...(active.get(t) ?? []), ...(on ? [n.node] : [])]);
      }
    }
  const notes = coverageNotes(ctx.desired, active);
  for (const n of nodes) {
    if (!n.reachable) notes.push({ level: "warn", subject: n.node, message: `unreachable: ${n.error}` });
    if (n.serviceError) notes.push({ level: "warn", subject: n.node, message: `gitlab-runner service state unknown: ${n.serviceError}` });
  }
  return { cluster: ctx.fleet.cluster, nodes, strays, notes };
}
