import {
  type Fleet,
  type FleetNode,
  type FleetTopology,
  InputError,
  type LoadBalancerEndpoint,
  nodesWithRole,
  type RegistryEndpoint,
  resolveTopology,
  SWARM_ROLE_LABELS,
} from "@pifleet/fleet";

/** Swarm node labels the stack places services by; the Ansible swarm role sets them (docs/ansible.md). */
export const PLACEMENT_LABELS = {
  app: SWARM_ROLE_LABELS.app,
  loadBalancer: SWARM_ROLE_LABELS.loadBalancer,
} as const;

/** Where each piece of the app runs: the fleet's topology, narrowed to a fleet that has an app section. */
export interface AppTopology {
  app: NonNullable<Fleet["app"]>;
  appNodes: FleetNode[];
  /** Nodes running redis-server and a sentinel (role redis); app.redis.node only names the first primary. */
  redisNodes: FleetNode[];
  registry: RegistryEndpoint;
  loadBalancer: LoadBalancerEndpoint;
  /** The manager pifleet runs `docker stack` and `docker service` on. */
  manager: FleetNode;
  /** Every Swarm manager in fleet order: read-only commands go through the first that answers (any-manager.ts). */
  managers: FleetNode[];
}

/**
 * The app's part of the fleet's topology. Validation has already checked every
 * cross-field rule (a manager, app nodes, the nodes app.* names); what is left
 * to the app is whether the fleet has an app at all.
 */
export function appTopology(fleet: Fleet, topology: FleetTopology = resolveTopology(fleet)): AppTopology {
  const app = fleet.app;
  if (!app)
    throw new InputError("the fleet has no app section", "Add app: {image, redis: {node}} to fleet.yaml (see examples/fleet.yaml).");
  const { loadBalancer } = topology;
  // resolveTopology sets it whenever the fleet has an app section.
  if (!loadBalancer) throw new Error("the fleet's topology has no load balancer despite an app section");
  const redisNodes = nodesWithRole(fleet, "redis");
  return {
    app,
    appNodes: topology.appNodes,
    redisNodes,
    registry: topology.registry,
    loadBalancer,
    manager: topology.primaryManager,
    managers: topology.managers,
  };
}
