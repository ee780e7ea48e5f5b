import { isIP } from "node:net";
import { findNode, nodesWithRole } from "./derive.js";
import type { Fleet, FleetNode } from "./schema.js";
import { parseVirtualAddress, type VirtualAddress } from "./vip.js";

/** Default port of the cluster registry (fleet app.registry.port). */
export const DEFAULT_REGISTRY_PORT = 5000;

/** Default port the app's load balancer listens on (fleet app.loadBalancer.port). */
export const DEFAULT_LB_PORT = 80;

export interface RegistryEndpoint {
  node: FleetNode;
  port: number;
  /** "address:port" (IPv6 in brackets), as listed in every node's insecure-registries. */
  host: string;
}

export interface LoadBalancerEndpoint {
  /** Nodes running the LB: those with the loadbalancer role, else app.loadBalancer.node (default: the first manager). */
  nodes: FleetNode[];
  port: number;
  /** The address keepalived moves between `nodes` (app.loadBalancer.vip); only when set. */
  vip?: VirtualAddress;
  /** What clients use: the VIP, else the one LB node's address. */
  address: string;
  /** "http://address[:port]", no trailing slash. */
  url: string;
}

/** Where runners are registered; group and project scopes always carry their id. */
export type RunnerScopeRef = { type: "instance" } | { type: "group" | "project"; id: number };

/**
 * Where each piece of the cluster runs, resolved once from a validated fleet.
 * Every default (registry and load balancer on the first manager) is applied
 * here, so consumers read facts instead of re-deriving or re-checking them.
 */
export interface FleetTopology {
  /** Swarm managers in fleet order; never empty. */
  managers: FleetNode[];
  /** The manager that inits the Swarm: the first one. */
  primaryManager: FleetNode;
  workers: FleetNode[];
  registry: RegistryEndpoint;
  /** The app's public entry; only when the fleet has an app section. */
  loadBalancer?: LoadBalancerEndpoint;
  /** Nodes with the app role, in fleet order. */
  appNodes: FleetNode[];
  /** The node running Redis; only when the fleet has an app section. */
  redisNode?: FleetNode;
  runnerScope: RunnerScopeRef;
}

function hostPort(address: string, port: number): string {
  return isIP(address) === 6 ? `[${address}]:${port}` : `${address}:${port}`;
}

/**
 * Validation (checks.ts) guarantees every reference resolves; a miss here means
 * the fleet skipped parseFleet/loadFleetFile, a programming error, not bad input.
 */
function mustFind(fleet: Fleet, name: string, key: string): FleetNode {
  const node = findNode(fleet, name);
  if (!node) throw new Error(`${key} names unknown node "${name}": resolve only fleets that parseFleet or loadFleetFile validated`);
  return node;
}

/** The fleet's topology. Pure; call it on a validated fleet (loadFleetFile returns it already). */
export function resolveTopology(fleet: Fleet): FleetTopology {
  const managers = nodesWithRole(fleet, "swarm-manager");
  const primaryManager = managers[0];
  if (!primaryManager) throw new Error("fleet has no swarm-manager node: resolve only fleets that parseFleet or loadFleetFile validated");
  const at = (name: string | undefined, key: string): FleetNode => (name === undefined ? primaryManager : mustFind(fleet, name, key));

  const registryNode = at(fleet.app?.registry?.node, "app.registry.node");
  const registryPort = fleet.app?.registry?.port ?? DEFAULT_REGISTRY_PORT;
  const { type, id } = fleet.gitlab.runnerScope;
  const runnerScope: RunnerScopeRef = type === "instance" ? { type } : { type, id: id ?? mustHaveScopeId(type) };
  const { app } = fleet;
  return {
    managers,
    primaryManager,
    workers: nodesWithRole(fleet, "swarm-worker"),
    registry: { node: registryNode, port: registryPort, host: hostPort(registryNode.address, registryPort) },
    ...(app
      ? {
          loadBalancer: loadBalancerEndpoint(fleet, at(app.loadBalancer?.node, "app.loadBalancer.node")),
          redisNode: mustFind(fleet, app.redis.node, "app.redis.node"),
        }
      : {}),
    appNodes: nodesWithRole(fleet, "app"),
    runnerScope,
  };
}

function loadBalancerEndpoint(fleet: Fleet, defaultNode: FleetNode): LoadBalancerEndpoint {
  const lbNodes = nodesWithRole(fleet, "loadbalancer");
  const port = fleet.app?.loadBalancer?.port ?? DEFAULT_LB_PORT;
  const vipText = fleet.app?.loadBalancer?.vip;
  const vip = vipText === undefined ? undefined : parseVirtualAddress(vipText);
  if (vipText !== undefined && !vip) throw new Error(`app.loadBalancer.vip ${vipText} is not IPv4/BITS: resolve only validated fleets`);
  const nodes = lbNodes.length > 0 ? lbNodes : [defaultNode];
  // Without a VIP (one load-balancer node) clients reach that node, wherever the Swarm's managers are.
  const address = vip?.address ?? (lbNodes[0] ?? defaultNode).address;
  const host = isIP(address) === 6 ? `[${address}]` : address;
  return { nodes, port, ...(vip ? { vip } : {}), address, url: `http://${host}${port === 80 ? "" : `:${port}`}` };
}

function mustHaveScopeId(type: string): never {
  throw new Error(`gitlab.runnerScope ${type} has no id: resolve only fleets that parseFleet or loadFleetFile validated`);
}
