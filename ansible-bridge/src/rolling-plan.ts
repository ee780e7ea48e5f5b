import type { Fleet } from "@pifleet/fleet";

/**
 * The rolling plan: which nodes need a reboot, an engine restart or OS updates, in which order, and
 * the steps around each one (drain, hand away, act, wait, undrain). Pure: observations in, steps out.
 * A converge only records what a node needs (markers); the roll acts on one node at a time.
 */

/** Files a converge writes when a node needs something only the roll may do. */
export const ROLL_MARKERS = {
  /** Written by the raspberrypi role (and by Debian tooling) when a boot setting changed. */
  reboot: "/var/run/reboot-required",
  /** Written by the docker role when daemon.json changed on a running engine. */
  dockerRestart: "/var/run/pifleet-docker-restart-required",
  /** Written by the redis role when redis-server's settings changed while it was in use. */
  redisRestart: "/var/run/pifleet-redis-restart-required",
} as const;

/** What one node reported before the roll. */
export interface NodeObservation {
  node: string;
  rebootRequired: boolean;
  dockerRestartRequired: boolean;
  redisRestartRequired: boolean;
  /** Packages `apt-get dist-upgrade` would upgrade (only observed by `pifleet upgrade`). */
  upgradable: string[];
  /** apt failed on the node (refreshing its lists, or simulating the upgrade): what it said. */
  aptError?: string;
}

/** Something a single node holds that clients need, handed to another node before it goes down (Redis primary, the LB's address). */
export interface Holding {
  /** e.g. "redis-primary", "lb-vip". */
  what: string;
  node: string;
}

export type NodeAction = "upgrade-and-reboot" | "reboot" | "restart-docker" | "restart-redis";

export type RollStep =
  | { kind: "drain-swarm"; node: string }
  | { kind: "drain-runners"; node: string }
  | { kind: "hand-off"; node: string; what: string }
  | { kind: "act"; node: string; action: NodeAction; upgrade: boolean }
  | { kind: "wait-healthy"; node: string }
  | { kind: "undrain-swarm"; node: string }
  | { kind: "undrain-runners"; node: string }
  /** The node may hold it again (its hand-off left a mark that a reboot may not clear: an engine restart does not). */
  | { kind: "release"; node: string; what: string };

export interface NodeRoll {
  node: string;
  action: NodeAction;
  /** Why the node is in the roll: the markers found, the package count. */
  reasons: string[];
  steps: RollStep[];
}

export interface RollPlan {
  nodes: NodeRoll[];
  /** Nodes that need something but are left out, and why. */
  skipped: { node: string; reason: string }[];
  /** Nodes that need nothing. */
  unchanged: string[];
}

export interface RollInput {
  fleet: Fleet;
  observations: NodeObservation[];
  holdings: Holding[];
  /**
   * Which nodes may hold each thing. A hand-off moves what a node holds when its turn comes, not when
   * the plan was made: an earlier node's hand-off may have moved the Redis primary onto it.
   */
  holders: { what: string; nodes: string[] }[];
  /** Nodes with at least one pifleet runner (runner-manager's desired state). */
  runnerNodes: string[];
  /** The node whose runner runs the job driving the roll: rebooting it would kill the roll. */
  selfNode?: string;
  /** Apply the upgradable packages (pifleet upgrade); otherwise only act on markers. */
  upgrade: boolean;
}

function actionFor(o: NodeObservation, upgrade: boolean): { action: NodeAction; reasons: string[] } | undefined {
  const reasons = [
    ...(o.rebootRequired ? [`${ROLL_MARKERS.reboot} present`] : []),
    ...(o.dockerRestartRequired ? [`${ROLL_MARKERS.dockerRestart} present`] : []),
    ...(o.redisRestartRequired ? [`${ROLL_MARKERS.redisRestart} present`] : []),
    ...(upgrade && o.upgradable.length > 0 ? [`${o.upgradable.length} package${o.upgradable.length === 1 ? "" : "s"} to upgrade`] : []),
  ];
  if (reasons.length === 0) return undefined;
  // Upgraded libraries and a new kernel only take effect after a reboot, which also restarts the engine.
  if (upgrade && o.upgradable.length > 0) return { action: "upgrade-and-reboot", reasons };
  if (o.rebootRequired) return { action: "reboot", reasons };
  // rolling.yml restarts whatever is marked; the action names the widest of it.
  if (o.dockerRestartRequired) return { action: "restart-docker", reasons };
  return { action: "restart-redis", reasons };
}

function stepsFor(input: RollInput, node: string, action: NodeAction): RollStep[] {
  const def = input.fleet.nodes.find((n) => n.name === node);
  const inSwarm = def?.roles.some((r) => r === "swarm-manager" || r === "swarm-worker") ?? false;
  const runsJobs = input.runnerNodes.includes(node);
  const upgrade = action === "upgrade-and-reboot";
  const held = input.holders.filter((h) => h.nodes.includes(node));
  // Hand-offs come first: draining first would stop the node's load balancer task while it still
  // holds the VIP, and clients would wait for keepalived to notice instead of a planned move.
  return [
    ...held.map((h) => ({ kind: "hand-off", node, what: h.what }) as const),
    ...(inSwarm ? [{ kind: "drain-swarm", node } as const] : []),
    ...(runsJobs ? [{ kind: "drain-runners", node } as const] : []),
    { kind: "act", node, action, upgrade },
    { kind: "wait-healthy", node },
    ...(inSwarm ? [{ kind: "undrain-swarm", node } as const] : []),
    ...(runsJobs ? [{ kind: "undrain-runners", node } as const] : []),
    ...held.map((h) => ({ kind: "release", node, what: h.what }) as const),
  ];
}

/**
 * Order: workers before managers (the control plane stays up longest), nodes holding something last
 * (each hand-off is then done once, onto a node already rolled), then fleet order. The node running
 * the driving job is skipped: the next roll, from another node's runner or a laptop, takes it.
 */
export function planRoll(input: RollInput): RollPlan {
  const { fleet, observations, holdings, selfNode, upgrade } = input;
  const byName = new Map(observations.map((o) => [o.node, o]));
  const rank = (name: string): number => {
    const def = fleet.nodes.find((n) => n.name === name);
    const manager = def?.roles.includes("swarm-manager") ? 1 : 0;
    const holds = holdings.some((h) => h.node === name) ? 2 : 0;
    return manager + holds;
  };
  const order = fleet.nodes.map((n, i) => ({ name: n.name, i })).sort((a, b) => rank(a.name) - rank(b.name) || a.i - b.i);
  const plan: RollPlan = { nodes: [], skipped: [], unchanged: [] };
  for (const { name } of order) {
    const o = byName.get(name);
    if (!o) continue;
    const decided = actionFor(o, upgrade);
    if (!decided) {
      plan.unchanged.push(name);
      continue;
    }
    if (name === selfNode) {
      plan.skipped.push({
        node: name,
        reason: `runs the job driving this roll (${decided.reasons.join(", ")}); rerun from another node's runner or from a laptop`,
      });
      continue;
    }
    plan.nodes.push({ node: name, ...decided, steps: stepsFor(input, name, decided.action) });
  }
  return plan;
}
