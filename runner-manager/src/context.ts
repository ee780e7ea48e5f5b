import type { Fleet } from "@pifleet/fleet";
import { desiredFromFleet } from "./desired.js";
import type { GitlabApi, RunnerSummary } from "./gitlab-api.js";
import { parseDescription, runnerKey } from "./identity.js";
import type { NodeAccess } from "./node-access.js";
import type { HeldLock, LockRequest } from "./ssh-runners-lock.js";
import type { Desired } from "./types.js";

/** What every runner operation works with. */
export interface RunnerContext {
  fleet: Fleet;
  desired: Desired;
  api: GitlabApi;
  nodes: NodeAccess;
  progress?: (message: string) => void;
  /** Takes the runners lock (on the fleet: ssh-runners-lock.ts); without one, runner changes are not serialised (in-memory tests). */
  lock?: (request: LockRequest) => Promise<HeldLock>;
}

export function runnerContext(fleet: Fleet, api: GitlabApi, nodes: NodeAccess, progress?: (m: string) => void): RunnerContext {
  return { fleet, desired: desiredFromFleet(fleet), api, nodes, ...(progress ? { progress } : {}) };
}

export interface OwnedSummary extends RunnerSummary {
  key: string;
  node: string;
  pool: string;
}

/** pifleet's runners of this cluster as the list shows them (identity from the description). */
export async function listOwned(ctx: RunnerContext): Promise<OwnedSummary[]> {
  const out: OwnedSummary[] = [];
  for (const r of await ctx.api.listRunners()) {
    const id = parseDescription(r.description);
    if (id && id.cluster === ctx.fleet.cluster) out.push({ ...r, key: runnerKey(id), node: id.node, pool: id.pool });
  }
  return out.sort((a, b) => a.key.localeCompare(b.key) || a.id - b.id);
}
