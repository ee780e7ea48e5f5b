import type { FleetNode } from "./schema.js";
import type { FleetTopology } from "./topology.js";

/**
 * Swarm node labels pifleet sets from node roles. The counter-app stack places
 * its services with these (e.g. `node.labels.pifleet.app == true`), and the
 * Ansible swarm role sets them (docs/ansible.md). Values are always "true".
 */
export const SWARM_ROLE_LABELS = {
  app: "pifleet.app",
  redis: "pifleet.redis",
  runner: "pifleet.runner",
  registry: "pifleet.registry",
  loadBalancer: "pifleet.lb",
} as const;

/** Label carrying the node's CPU architecture (arm64, armhf, amd64). */
export const SWARM_ARCH_LABEL = "pifleet.arch";

/** "manager", "worker" or "none": a node with both roles is a manager. */
export function swarmRole(node: FleetNode): "manager" | "worker" | "none" {
  if (node.roles.includes("swarm-manager")) return "manager";
  return node.roles.includes("swarm-worker") ? "worker" : "none";
}

/** The node's Swarm labels: its fleet labels, then pifleet's role and arch labels. */
export function swarmLabels(node: FleetNode, topology: FleetTopology): Record<string, string> {
  const labels: Record<string, string> = { ...node.labels, [SWARM_ARCH_LABEL]: node.arch };
  const set = (key: string, on: boolean) => {
    if (on) labels[key] = "true";
  };
  set(SWARM_ROLE_LABELS.app, node.roles.includes("app"));
  set(SWARM_ROLE_LABELS.redis, node.roles.includes("redis"));
  set(SWARM_ROLE_LABELS.runner, node.roles.includes("runner"));
  set(SWARM_ROLE_LABELS.registry, topology.registry.node.name === node.name);
  set(SWARM_ROLE_LABELS.loadBalancer, topology.loadBalancer?.nodes.some((n) => n.name === node.name) ?? false);
  return labels;
}
