import { isIP } from "node:net";
import { findNode, nodesWithRole } from "./derive.js";
import type { Fleet, FleetNode } from "./schema.js";

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

/** Default port of the cluster registry (fleet app.registry.port). */
export const DEFAULT_REGISTRY_PORT = 5000;

export interface RegistryEndpoint {
  node: string;
  address: string;
  port: number;
  /** "address:port", as listed in every node's insecure-registries. */
  host: string;
}

/** The node that inits the Swarm, or undefined when the fleet has no manager. */
export function swarmPrimary(fleet: Fleet): FleetNode | undefined {
  return nodesWithRole(fleet, "swarm-manager")[0];
}

/** The first swarm manager of a validated fleet (validation guarantees there is one). */
export function primaryManager(fleet: Fleet): FleetNode {
  const m = swarmPrimary(fleet);
  if (!m) throw new Error("fleet has no swarm manager (validation should have caught this)");
  return m;
}

function nodeOrPrimary(fleet: Fleet, name: string | undefined): FleetNode | undefined {
  return (name === undefined ? undefined : findNode(fleet, name)) ?? swarmPrimary(fleet);
}

/**
 * Where the cluster image registry runs: fleet app.registry, else the first
 * swarm manager on port 5000. Undefined when the fleet has no swarm manager.
 */
export function registryEndpoint(fleet: Fleet): RegistryEndpoint | undefined {
  const node = nodeOrPrimary(fleet, fleet.app?.registry?.node);
  if (!node) return undefined;
  const port = fleet.app?.registry?.port ?? DEFAULT_REGISTRY_PORT;
  const host = isIP(node.address) === 6 ? `[${node.address}]:${port}` : `${node.address}:${port}`;
  return { node: node.name, address: node.address, port, host };
}

/** Default port the app's load balancer listens on (fleet app.loadBalancer.port). */
export const DEFAULT_LB_PORT = 80;

/** The node running the app's load balancer (fleet app.loadBalancer, else the first swarm manager). */
export function loadBalancerNode(fleet: Fleet): FleetNode | undefined {
  return fleet.app ? nodeOrPrimary(fleet, fleet.app.loadBalancer?.node) : undefined;
}

/** The load balancer's node and port, the app's public entry. */
export function loadBalancerEndpoint(fleet: Fleet): { node: FleetNode; port: number } | undefined {
  const node = loadBalancerNode(fleet);
  return node ? { node, port: fleet.app?.loadBalancer?.port ?? DEFAULT_LB_PORT } : undefined;
}

/** "manager", "worker" or "none": a node with both roles is a manager. */
export function swarmRole(node: FleetNode): "manager" | "worker" | "none" {
  if (node.roles.includes("swarm-manager")) return "manager";
  return node.roles.includes("swarm-worker") ? "worker" : "none";
}

/** The node's Swarm labels: its fleet labels, then pifleet's role and arch labels. */
export function swarmLabels(fleet: Fleet, node: FleetNode): Record<string, string> {
  const labels: Record<string, string> = { ...node.labels, [SWARM_ARCH_LABEL]: node.arch };
  const set = (key: string, on: boolean) => {
    if (on) labels[key] = "true";
  };
  set(SWARM_ROLE_LABELS.app, node.roles.includes("app"));
  set(SWARM_ROLE_LABELS.redis, node.roles.includes("redis"));
  set(SWARM_ROLE_LABELS.runner, node.roles.includes("runner"));
  set(SWARM_ROLE_LABELS.registry, registryEndpoint(fleet)?.node === node.name);
  set(SWARM_ROLE_LABELS.loadBalancer, loadBalancerNode(fleet)?.name === node.name);
  return labels;
}
