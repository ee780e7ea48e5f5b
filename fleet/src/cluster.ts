import type { Fleet, FleetNode } from "./schema.js";
import { type FleetTopology, type LoadBalancerEndpoint, resolveTopology } from "./topology.js";

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

/**
 * The registry as counter-app/src/deploy/cluster.ts reads it (node by name).
 * Transitional: remove once it reads LoadedFleet.topology.registry.
 */
export function registryEndpoint(fleet: Fleet): { node: string; address: string; port: number; host: string } {
  const { node, port, host } = resolveTopology(fleet).registry;
  return { node: node.name, address: node.address, port, host };
}

/** Transitional, for counter-app/src/deploy/cluster.ts: remove once it reads LoadedFleet.topology.loadBalancer. */
export function loadBalancerEndpoint(fleet: Fleet): LoadBalancerEndpoint | undefined {
  return resolveTopology(fleet).loadBalancer;
}

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
  set(SWARM_ROLE_LABELS.loadBalancer, topology.loadBalancer?.node.name === node.name);
  return labels;
}
