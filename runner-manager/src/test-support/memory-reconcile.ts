import type { Fleet } from "@pifleet/fleet";
import { manualClock } from "@pifleet/io";
import { expect } from "vitest";
import { applyPlan } from "../apply.js";
import { parseConfig } from "../config-toml.js";
import type { GitlabApi } from "../gitlab-api.js";
import type { NodeAccess } from "../node-access.js";
import { planFleet } from "../reconcile.js";
import { testFleet } from "./fleet-fixture.js";
import type { MemoryGitlab } from "./memory-gitlab.js";
import type { MemoryNodes } from "./memory-nodes.js";

/** Shared by the in-memory reconcile tests: the fixture fleet, a fake-clock drain, one reconcile pass, and the convergence check. */
export const fleet: Fleet = testFleet();
export const DESIRED = 5; // docker on pi1..pi3, deploy on pi1..pi2
// A manual clock: waiting for jobs advances time instead of sleeping.
export const drain = { timeoutMs: 1_000, pollMs: 250, clock: manualClock() };

export async function reconcile(api: GitlabApi, nodes: NodeAccess, f: Fleet = fleet) {
  const { plan } = await planFleet(f, api, nodes);
  const report = await applyPlan(plan, api, nodes, { drain });
  return { plan, report };
}

/** Every pifleet block on every node names a live runner of the right node/pool and holds that runner's current token. */
export function expectConverged(gitlab: MemoryGitlab, nodes: MemoryNodes) {
  const owned = [...gitlab.runners.values()].filter((r) => r.description.startsWith("pifleet testfleet/"));
  expect(owned).toHaveLength(DESIRED);
  expect(new Set(owned.map((r) => r.description)).size).toBe(DESIRED);
  for (const node of ["pi1", "pi2", "pi3"]) {
    const doc = parseConfig(nodes.files.get(node) ?? null, node) as { runners?: Record<string, unknown>[] };
    const blocks = doc.runners ?? [];
    expect(blocks.length).toBe(node === "pi3" ? 1 : 2);
    for (const b of blocks) {
      const live = gitlab.runners.get(b.id as number);
      expect(live?.description.startsWith(`${String(b.name)} [`), `${node} block ${String(b.name)} names its runner`).toBe(true);
      expect(live?.token === b.token, `${node} block ${String(b.name)} holds the live token`).toBe(true);
    }
  }
}
