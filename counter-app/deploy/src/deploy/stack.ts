import { type Fleet, type FleetTopology, nodesWithRole, STACK_MEMORY_MIB } from "@pifleet/fleet";
import { stringify } from "yaml";
import { appTopology, PLACEMENT_LABELS } from "./cluster.js";

/** Image references the stack runs, e.g. 198.19.1.11:5000/pifleet/counter:3f2a…. */
export interface StackImages {
  app: string;
  redis: string;
  loadBalancer: string;
}

export const STACK_NAME = "pifleet";
/** Port the app listens on inside its container (the LB's backend port). */
export const APP_CONTAINER_PORT = 8080;
export const LB_HEALTH_PORT = 8404;
/** HAProxy runs unprivileged, so it listens above 1024; the stack publishes it on the fleet's port. */
export const LB_CONTAINER_PORT = 8080;

/**
 * Sized for a Raspberry Pi 4 with 2 GB shared with the OS, a GitLab runner
 * and its jobs: the app is ~60 MB resident, Redis holds a few thousand keys.
 * The limits are the fleet's (STACK_MEMORY_MIB), which its memory budget counts.
 */
export const MEMORY = {
  app: `${STACK_MEMORY_MIB.app}M`,
  redis: `${STACK_MEMORY_MIB.redis}M`,
  redisMaxMemory: "160mb",
  loadBalancer: `${STACK_MEMORY_MIB.loadBalancer}M`,
} as const;

const constraint = (label: string) => `node.labels.${label} == true`;

function redisCommand(persistence: "aof" | "rdb" | "none"): string[] {
  // protected-mode off: clients come over the stack's private overlay network, not loopback.
  const base = [
    "redis-server",
    "--dir",
    "/data",
    "--protected-mode",
    "no",
    "--maxmemory",
    MEMORY.redisMaxMemory,
    "--maxmemory-policy",
    "noeviction",
  ];
  if (persistence === "aof") return [...base, "--appendonly", "yes", "--appendfsync", "everysec", "--save", ""];
  if (persistence === "rdb") return [...base, "--appendonly", "no", "--save", "60 1"];
  return [...base, "--appendonly", "no", "--save", ""];
}

/**
 * The counter's Swarm stack as a compose object, from the fleet alone (pure).
 *
 * No IPVS on the test machine (and no need for it on the Pis): every service
 * uses endpoint_mode dnsrr, and only the load balancer publishes a port, in
 * host mode. HAProxy finds the app tasks through Docker's DNS (tasks.<service>).
 * The app is a global service limited to app-labelled nodes: one replica per
 * app node, and start-first updates can place the new task beside the old one.
 */
export function stackModel(fleet: Fleet, images: StackImages, stackName = STACK_NAME, topology?: FleetTopology) {
  const t = appTopology(fleet, topology);
  const appService = `${stackName}_app`;
  // Several nodes may carry the redis role (and label); the volume is on app.redis.node only.
  const redisConstraints = [constraint(PLACEMENT_LABELS.redis)];
  if (nodesWithRole(fleet, "redis").length > 1) redisConstraints.push(`node.hostname == ${t.redisNode.name}`);
  return {
    version: "3.8",
    services: {
      app: {
        image: images.app,
        environment: {
          PORT: String(APP_CONTAINER_PORT),
          REDIS_URL: "redis://redis:6379",
          NODE_NAME: "{{.Node.Hostname}}",
          LOG_LEVEL: "info",
          // The LB checks /readyz every second and drops a server after 2 failures.
          DRAIN_MS: "3000",
          SHUTDOWN_TIMEOUT_MS: "12000",
        },
        networks: ["counter"],
        healthcheck: {
          test: ["CMD", "node", "dist/app/healthcheck.js"],
          interval: "5s",
          timeout: "2s",
          retries: 3,
          start_period: "10s",
        },
        stop_grace_period: "15s",
        deploy: {
          mode: "global",
          endpoint_mode: "dnsrr",
          placement: { constraints: [constraint(PLACEMENT_LABELS.app)] },
          update_config: {
            parallelism: 1,
            delay: "5s",
            order: "start-first",
            failure_action: "rollback",
            monitor: "30s",
            max_failure_ratio: 0,
          },
          rollback_config: { parallelism: 1, delay: "2s", order: "start-first", failure_action: "pause", monitor: "15s" },
          restart_policy: { condition: "any", delay: "2s", window: "20s" },
          resources: { limits: { memory: MEMORY.app }, reservations: { memory: "96M" } },
        },
      },
      redis: {
        image: images.redis,
        command: redisCommand(t.app.redis.persistence),
        volumes: ["redis-data:/data"],
        networks: ["counter"],
        healthcheck: { test: ["CMD", "redis-cli", "ping"], interval: "5s", timeout: "2s", retries: 3, start_period: "5s" },
        stop_grace_period: "30s",
        deploy: {
          replicas: 1,
          endpoint_mode: "dnsrr",
          // The volume lives on one node, so Redis must always land there.
          placement: { constraints: redisConstraints },
          // One writer per AOF: never run the old and new Redis at once.
          update_config: { parallelism: 1, order: "stop-first", failure_action: "rollback", monitor: "20s" },
          restart_policy: { condition: "any", delay: "2s" },
          resources: { limits: { memory: MEMORY.redis }, reservations: { memory: "64M" } },
        },
      },
      lb: {
        image: images.loadBalancer,
        environment: {
          APP_SERVICE: appService,
          APP_PORT: String(APP_CONTAINER_PORT),
          APP_SLOTS: String(Math.max(4, t.appNodes.length * 2)),
        },
        ports: [
          { target: LB_CONTAINER_PORT, published: t.loadBalancer.port, protocol: "tcp", mode: "host" },
          // keepalived on the node tracks this (docs/app.md, "Load balancer and VIP").
          { target: LB_HEALTH_PORT, published: LB_HEALTH_PORT, protocol: "tcp", mode: "host" },
        ],
        networks: ["counter"],
        healthcheck: {
          test: ["CMD", "bash", "-c", `exec 3<>/dev/tcp/127.0.0.1/${LB_HEALTH_PORT}`],
          interval: "5s",
          timeout: "2s",
          retries: 3,
        },
        stop_grace_period: "10s",
        deploy: {
          // One LB on every LB-labelled node (the loadbalancer role); keepalived's VIP picks the one clients reach.
          mode: "global",
          endpoint_mode: "dnsrr",
          placement: { constraints: [constraint(PLACEMENT_LABELS.loadBalancer)] },
          // A host-mode port cannot be bound twice on one node: stop the old LB first.
          update_config: { parallelism: 1, order: "stop-first", failure_action: "rollback", monitor: "15s" },
          restart_policy: { condition: "any", delay: "2s" },
          resources: { limits: { memory: MEMORY.loadBalancer } },
        },
      },
    },
    networks: { counter: { driver: "overlay" } },
    volumes: { "redis-data": {} },
  };
}

/** The stack file `docker stack deploy -c` reads. */
export function renderStack(fleet: Fleet, images: StackImages, stackName = STACK_NAME, topology?: FleetTopology): string {
  return `# Generated by pifleet from the fleet file; do not edit (run pifleet app deploy).\n${stringify(stackModel(fleet, images, stackName, topology), { lineWidth: 0, version: "1.1" })}`;
}
