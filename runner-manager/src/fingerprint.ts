import { createHash } from "node:crypto";
import { configDigest } from "./config-toml.js";
import { parseDescription, runnerKey } from "./identity.js";
import type { Desired, Observed } from "./types.js";

/**
 * What a plan was made against, so a saved plan is applied only to the world
 * it saw. Pure. It holds the facts the planner reads — a digest of what
 * fleet.yaml wants (which also decides what is observed), this cluster's runners
 * (pause, tags, description, staleness, the maintenance note's verdict) and
 * each node's reachability, config.toml digest and pending rotations — and a
 * sha256 over them. No token and no config text: config.toml only as a digest.
 */

export interface RunnerFacts {
  id: number;
  /** node/pool from the description. */
  key: string;
  description: string;
  paused: boolean;
  /** The only status any plan reads (prune retires stale runners); online ↔ offline does not matter. */
  stale: boolean;
  tagPools: string[];
  pausedByPifleet?: boolean;
  notOurs: boolean;
}

export interface NodeFacts {
  name: string;
  reachable: boolean;
  /** sha256 of config.toml without its token fields; null when the file does not exist or the node was not read. */
  config: string | null;
  pendingRotation: number[];
}

export interface Fingerprint {
  sha256: string;
  /** sha256 of the desired runners and node settings derived from fleet.yaml. */
  fleet: string;
  runners: RunnerFacts[];
  nodes: NodeFacts[];
}

const sha256 = (value: unknown) => createHash("sha256").update(JSON.stringify(value)).digest("hex");

export function fingerprint(desired: Desired, observed: Observed): Fingerprint {
  const { cluster } = desired;
  const runners = observed.runners
    .flatMap((r): RunnerFacts[] => {
      const id = parseDescription(r.description);
      // Runners of other clusters and other tools never change a plan, so they do not make it stale.
      if (id?.cluster !== cluster) return [];
      return [
        {
          id: r.id,
          key: runnerKey(id),
          description: r.description,
          paused: r.paused,
          stale: r.status === "stale",
          tagPools: [...r.tagPools].sort(),
          ...(r.pausedByPifleet === undefined ? {} : { pausedByPifleet: r.pausedByPifleet }),
          notOurs: r.notOurs !== undefined,
        },
      ];
    })
    .sort((a, b) => a.id - b.id);
  const nodes = observed.nodes
    .map((n) => ({
      name: n.name,
      reachable: n.reachable,
      config: n.reachable ? configDigest(n.configText, n.name) : null,
      pendingRotation: [...n.pendingRotation].sort((a, b) => a - b),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
  const fleet = sha256(desired);
  return { sha256: sha256({ fleet, runners, nodes }), fleet, runners, nodes };
}

/** With fleet.yaml changed, what observation reads changes too (tag queries, which notes are read): only direct changes are named. */
function runnerChanges(before: RunnerFacts, after: RunnerFacts, sameFleet: boolean): string[] {
  const who = `runner #${after.id} (${after.key})`;
  const out: string[] = [];
  if (before.paused !== after.paused) out.push(`${who} was ${after.paused ? "paused" : "resumed"} in GitLab`);
  if (before.description !== after.description) out.push(`${who} was renamed to "${after.description}" in GitLab`);
  if (sameFleet && before.tagPools.join() !== after.tagPools.join()) out.push(`${who} had its tags changed in GitLab`);
  if (before.stale !== after.stale) out.push(`${who} ${after.stale ? "became stale" : "is in contact with GitLab again"}`);
  // Observation reads the maintenance note (setting pausedByPifleet) only of runners it may act on; compare it when both read it.
  const bothRead = before.pausedByPifleet !== undefined && after.pausedByPifleet !== undefined;
  if (bothRead && (before.notOurs !== after.notOurs || before.pausedByPifleet !== after.pausedByPifleet))
    out.push(`${who} had its maintenance note changed in GitLab`);
  return out;
}

function nodeChanges(before: NodeFacts, after: NodeFacts): string[] {
  if (before.reachable !== after.reachable) return [`${after.name} became ${after.reachable ? "reachable" : "unreachable"}`];
  const out: string[] = [];
  if (before.config !== after.config)
    out.push(after.config === null ? `${after.name}'s config.toml was removed` : `${after.name}'s config.toml changed`);
  if (before.pendingRotation.join() !== after.pendingRotation.join())
    out.push(`${after.name}'s record of token rotations under way changed`);
  return out;
}

/** What changed between two fingerprints, one phrase each, for a person deciding to plan again; empty when they match. */
export function fingerprintChanges(before: Fingerprint, after: Fingerprint): string[] {
  if (before.sha256 === after.sha256) return [];
  const sameFleet = before.fleet === after.fleet;
  const out: string[] = sameFleet ? [] : ["fleet.yaml changed"];
  const runnersNow = new Map(after.runners.map((r) => [r.id, r]));
  const runnersThen = new Map(before.runners.map((r) => [r.id, r]));
  for (const r of before.runners) {
    const now = runnersNow.get(r.id);
    out.push(...(now ? runnerChanges(r, now, sameFleet) : [`runner #${r.id} (${r.key}) was deleted in GitLab`]));
  }
  for (const r of after.runners) if (!runnersThen.has(r.id)) out.push(`runner #${r.id} (${r.key}) was created in GitLab`);
  const nodesNow = new Map(after.nodes.map((n) => [n.name, n]));
  const nodesThen = new Map(before.nodes.map((n) => [n.name, n]));
  for (const n of before.nodes) {
    const now = nodesNow.get(n.name);
    out.push(...(now ? nodeChanges(n, now) : [`${n.name} no longer runs a runner in fleet.yaml`]));
  }
  for (const n of after.nodes) if (!nodesThen.has(n.name)) out.push(`${n.name} runs a runner in fleet.yaml now`);
  // Equal facts give equal digests, so a differing digest with no listed change means a file made by hand.
  return out.length > 0 ? out : ["the saved fingerprint does not match its facts"];
}
