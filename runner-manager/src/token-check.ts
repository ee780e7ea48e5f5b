import { Secret } from "@pifleet/io";
import { parseConfig } from "./config-toml.js";
import type { GitlabApi } from "./gitlab-api.js";
import { mapLimit } from "./map-limit.js";
import type { ObservedNode } from "./types.js";

/**
 * Is each token in a node's config.toml its runner's live one? Two token resets racing (two applies, or a
 * person's reset in the UI) can leave a revoked token on the node: gitlab-runner is then refused, while GitLab's
 * list still shows the runner and nothing else looks wrong. GitLab's POST /runners/verify is the only way to
 * tell without changing the token: one request per pifleet runner in a reachable node's config.toml.
 *
 * A verify is a contact: sent with the node's own system_id (what gitlab-runner sends), it heartbeats the
 * manager that really uses the token, and no extra manager shows up in GitLab. And only where gitlab-runner
 * runs (and so contacts GitLab anyway): a drained node's runners do not look alive, and a token there is
 * checked by the first plan after undrain.
 */

export interface NodeTokens {
  node: ObservedNode;
  /** gitlab-runner's system_id on the node, when it has one. */
  systemId?: string;
  /** Whether gitlab-runner runs there; absent when not known (then its tokens are checked). */
  runnerActive?: boolean;
}

/**
 * The tokens to check on a node, pure: pifleet's blocks with a token, of runners in `ids`, not already being
 * rotated, on a node whose gitlab-runner is not known to be stopped.
 */
export function tokensToCheck({ node, runnerActive }: NodeTokens, ids: ReadonlySet<number>): { runnerId: number; token: Secret }[] {
  if (!node.reachable || node.configText === null || runnerActive === false) return [];
  const doc = parseConfig(node.configText, node.name) as { runners?: Record<string, unknown>[] };
  return (doc.runners ?? []).flatMap((b) => {
    const id = typeof b.id === "number" ? b.id : 0;
    const owned = typeof b.name === "string" && b.name.startsWith("pifleet ") && ids.has(id);
    return owned && typeof b.token === "string" && b.token !== "" && !node.pendingRotation.includes(id)
      ? [{ runnerId: id, token: new Secret(b.token) }]
      : [];
  });
}

/** Sets rejectedTokens on each node where GitLab refuses any: the runners (of `ids`) whose token in its config.toml GitLab refuses. */
export async function checkTokens(nodes: NodeTokens[], ids: ReadonlySet<number>, api: GitlabApi): Promise<void> {
  const checks = nodes.flatMap((n) => tokensToCheck(n, ids).map((t) => ({ node: n.node, systemId: n.systemId, ...t })));
  const live = await mapLimit(checks, 4, (c) => api.verifyToken(c.token, c.systemId));
  for (const { node } of nodes) {
    const rejected = checks.filter((c, i) => c.node === node && !live[i]).map((c) => c.runnerId);
    if (rejected.length > 0) node.rejectedTokens = rejected;
  }
}
