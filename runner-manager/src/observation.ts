import { stringify } from "smol-toml";
import { observedBlocks, parseConfig } from "./config-toml.js";
import { redactConfig } from "./redact-config.js";
import type { Desired, Note, Observed, ObservedNode } from "./types.js";

export { REDACTED } from "./redact-config.js";

/**
 * config.toml with every credential in it replaced by REDACTED (redactConfig), as text (pure; null stays
 * null). pifleet writes none of these but the token, so a plan from the redacted file is the plan of the real one.
 */
export function redactConfigText(text: string | null, node: string): string | null {
  if (text === null) return null;
  return stringify(redactConfig(parseConfig(text, node)));
}

function redactNode(node: ObservedNode): ObservedNode {
  if (!node.reachable) return node;
  const configText = redactConfigText(node.configText, node.name);
  return { ...node, configText, blocks: observedBlocks(parseConfig(configText, node.name)) };
}

/**
 * An observation that holds no runner token, for an artifact any project member may read (docs/security.md,
 * design D): GitLab's runner list carries none, so only the nodes' config.toml changes. Planning with it gives
 * the plan of the unredacted observation (a unit test holds the two together). Pure.
 */
export function redactObserved(observed: Observed): Observed {
  return { runners: observed.runners.map((r) => ({ ...r })), nodes: observed.nodes.map(redactNode) };
}

/**
 * A saved observation, ready to plan a fleet file it was not made for (a merge request's): nodes the
 * file adds, which no observation can have seen, are taken as new — reachable, no config.toml yet —
 * and a note says so. Nodes the observation could not reach stay skipped. Pure.
 */
export function planningObservation(desired: Desired, observed: Observed): { observed: Observed; notes: Note[] } {
  const seen = new Set(observed.nodes.map((n) => n.name));
  const added = desired.nodes.filter((n) => !seen.has(n.name)).map((n) => n.name);
  return {
    observed: {
      runners: observed.runners,
      nodes: [...observed.nodes, ...added.map((name) => ({ name, reachable: true, configText: null, blocks: [], pendingRotation: [] }))],
    },
    notes: added.map((name) => ({
      level: "info" as const,
      subject: name,
      message: "not in the observation (new in this fleet file): planned as a node without config.toml",
    })),
  };
}
