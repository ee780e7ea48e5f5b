import { isIP } from "node:net";
import { type Fleet, type FleetNode, findNode, InputError, nodesWithRole } from "@pifleet/fleet";

/**
 * Swarm node labels the stack places services by. The Ansible swarm role sets
 * them from node roles (docs/ansible.md, ansible-bridge SWARM_ROLE_LABELS).
 */
export const PLACEMENT_LABELS = { app: "pifleet.app", redis: "pifleet.redis", loadBalancer: "pifleet.lb" } as const;

export const DEFAULT_REGISTRY_PORT = 5000;
export const DEFAULT_LB_PORT = 80;

/** What the app part of the fleet resolves to: where each piece runs. */
export interface AppTopology {
  app: NonNullable<Fleet["app"]>;
  appNodes: FleetNode[];
  redisNode: FleetNode;
  registry: { node: FleetNode; port: number; host: string };
  loadBalancer: { node: FleetNode; port: number };
  manager: FleetNode;
}

function nodeOrManager(fleet: Fleet, name: string | undefined, manager: FleetNode, what: string): FleetNode {
  if (name === undefined) return manager;
  const node = findNode(fleet, name);
  if (!node) throw new InputError(`app.${what}.node: no node named "${name}" in the fleet`, "Use the name of one of the fleet's nodes.");
  return node;
}

/** Resolves the fleet's app section; bad input names the fleet key to fix. */
export function appTopology(fleet: Fleet): AppTopology {
  const app = fleet.app;
  if (!app)
    throw new InputError("the fleet has no app section", "Add app: {image, redis: {node}} to fleet.yaml (see examples/fleet.yaml).");
  const manager = nodesWithRole(fleet, "swarm-manager")[0];
  if (!manager) throw new InputError("the fleet has no swarm-manager node", "Give at least one node the swarm-manager role.");
  const appNodes = nodesWithRole(fleet, "app");
  if (appNodes.length === 0) throw new InputError("no node has the app role", "Give the nodes that serve the counter the app role.");
  const redisNode = findNode(fleet, app.redis.node);
  if (!redisNode) throw new InputError(`app.redis.node: no node named "${app.redis.node}" in the fleet`);
  const registryNode = nodeOrManager(fleet, app.registry?.node, manager, "registry");
  const registryPort = app.registry?.port ?? DEFAULT_REGISTRY_PORT;
  const host = isIP(registryNode.address) === 6 ? `[${registryNode.address}]` : registryNode.address;
  return {
    app,
    appNodes,
    redisNode,
    registry: { node: registryNode, port: registryPort, host: `${host}:${registryPort}` },
    loadBalancer: {
      node: nodeOrManager(fleet, app.loadBalancer?.node, manager, "loadBalancer"),
      port: app.loadBalancer?.port ?? DEFAULT_LB_PORT,
    },
    manager,
  };
}
