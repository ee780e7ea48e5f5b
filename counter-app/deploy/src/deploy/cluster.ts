import {
  type Fleet,
  type FleetNode,
  findNode,
  InputError,
  loadBalancerEndpoint,
  nodesWithRole,
  registryEndpoint,
  SWARM_ROLE_LABELS,
} from "@pifleet/fleet";

/** Swarm node labels the stack places services by; the Ansible swarm role sets them (docs/ansible.md). */
export const PLACEMENT_LABELS = {
  app: SWARM_ROLE_LABELS.app,
  redis: SWARM_ROLE_LABELS.redis,
  loadBalancer: SWARM_ROLE_LABELS.loadBalancer,
} as const;

/** What the app part of the fleet resolves to: where each piece runs. */
export interface AppTopology {
  app: NonNullable<Fleet["app"]>;
  appNodes: FleetNode[];
  redisNode: FleetNode;
  registry: { node: FleetNode; port: number; host: string };
  loadBalancer: { node: FleetNode; port: number };
  manager: FleetNode;
}

function referencedNode(fleet: Fleet, name: string | undefined, what: string): void {
  if (name !== undefined && !findNode(fleet, name))
    throw new InputError(`app.${what}.node: no node named "${name}" in the fleet`, "Use the name of one of the fleet's nodes.");
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
  referencedNode(fleet, app.registry?.node, "registry");
  referencedNode(fleet, app.loadBalancer?.node, "loadBalancer");
  const registry = registryEndpoint(fleet);
  const loadBalancer = loadBalancerEndpoint(fleet);
  const registryNode = registry && findNode(fleet, registry.node);
  // Both default to the manager found above, so they exist once the references are checked.
  if (!registry || !registryNode || !loadBalancer) throw new Error("registry or load balancer unresolved despite a swarm manager");
  return {
    app,
    appNodes,
    redisNode,
    registry: { node: registryNode, port: registry.port, host: registry.host },
    loadBalancer,
    manager,
  };
}
