import type { Desired, Note } from "./types.js";

/**
 * Tag spread: GitLab does not place jobs, runners pull them, so a tag served by
 * one node only stops every job carrying it when that node goes down. Pools
 * give every node they select the pool's full tag set, so spreading is the
 * fleet file's choice; pifleet checks it and says what to change.
 */

export interface TagServer {
  node: string;
  /** Active = exists in GitLab, not paused, and its node answers. */
  active: boolean;
}

/** Per tag, the nodes whose runners carry it. */
export function tagServers(desired: Desired): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const n of desired.nodes)
    for (const r of n.runners) for (const t of r.tags) out.set(t, [...new Set([...(out.get(t) ?? []), n.name])].sort());
  return out;
}

/** Warnings for tags one lost node would leave without a runner, and for tags no active runner serves right now. */
export function coverageNotes(desired: Desired, activeNodesByTag?: Map<string, string[]>): Note[] {
  const notes: Note[] = [];
  for (const [tag, nodes] of [...tagServers(desired)].sort(([a], [b]) => a.localeCompare(b))) {
    if (nodes.length === 1) {
      notes.push({
        level: "warn",
        subject: `tag ${tag}`,
        message: `only ${nodes[0]} serves it: losing ${nodes[0]} leaves jobs tagged ${tag} with no runner; give another node a pool with this tag in fleet.yaml`,
      });
    }
    const active = activeNodesByTag?.get(tag);
    if (active && active.length === 0) {
      notes.push({
        level: "warn",
        subject: `tag ${tag}`,
        message: `no active runner serves it right now (paused, missing or node unreachable): its jobs wait`,
      });
    }
  }
  return notes;
}

/** Would pausing these nodes' runners leave a tag with no active runner? Returns the tags that would lose their last one. */
export function tagsLostByPausing(desired: Desired, pausing: string[], active: (node: string, key: string) => boolean): string[] {
  const lost: string[] = [];
  for (const [tag, nodes] of tagServers(desired)) {
    if (!nodes.some((n) => pausing.includes(n))) continue;
    const still = desired.nodes
      .filter((n) => nodes.includes(n.name) && !pausing.includes(n.name))
      .some((n) => n.runners.some((r) => r.tags.includes(tag) && active(n.name, r.key)));
    if (!still) lost.push(tag);
  }
  return lost.sort();
}
