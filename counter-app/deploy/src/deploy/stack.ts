import { type Fleet, type FleetTopology, STACK_MEMORY_MIB } from "@pifleet/fleet";
import { stringify } from "yaml";
import { appTopology, PLACEMENT_LABELS } from "./cluster.js";

/** Image references the stack runs, e.g. 198.19.1.11:5000/pifleet/counter:3f2a…. */
export interface StackImages {
  app: string;
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
 * and its jobs: the app is ~60 MB resident. The limits are the fleet's
 * (STACK_MEMORY_MIB), which its memory budget counts.
 */
export const MEMORY = {
  app: `${STACK_MEMORY_MIB.app}M`,
  loadBalancer: `${STACK_MEMORY_MIB.loadBalancer}M`,
} as const;

/** Port of the sentinels the Ansible role `redis` runs beside redis-server (docs/app.md, "Redis"). */
export const REDIS_SENTINEL_PORT = 26379;
/** The name the sentinels monitor the primary under (the role's redis_master_name). */
export const REDIS_MASTER_NAME = "pifleet";

/**
 * How long the app gives a batch of views before it answers 503 (not counted). Long enough to follow a planned
 * hand-off of the Redis primary: the old primary refuses writes (READONLY) until the sentinels end the failover,
 * 1–3 s after the promotion, and node-redis asks them again only once a second while a failover runs (on
 * loopback the held requests were answered 3.4 s after the pause). WAIT keeps 1 s of it. Below HAProxy's
 * `timeout server` (haproxy.cfg) and the load probe's timeout (load/probe.ts): a slow answer is a 503 the app
 * chose, never a cut connection.
 */
export const APP_REDIS_TIMEOUT_MS = 8_000;

/** Where the app's tasks find the Redis password: the stack mounts the fleet's Docker secret there (redis-secret.ts). */
export const REDIS_PASSWORD_PATH = "/run/secrets/redis-password";

const constraint = (label: string) => `node.labels.${label} == true`;

/** Knobs a benchmark sets; the production stack (no options) leaves them out. */
export interface StackOptions {
  /** Swarm `resources.limits.cpus` per app replica, e.g. 0.2: the scale-out bench caps replicas so they, not the machine, are the limit. */
  appCpus?: number;
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
export function stackModel(
  fleet: Fleet,
  images: StackImages,
  stackName = STACK_NAME,
  topology?: FleetTopology,
  redisSecret?: string,
  options: StackOptions = {},
) {
  const t = appTopology(fleet, topology);
  const appService = `${stackName}_app`;
  // The fleet's Redis password (a Docker secret named by its hash): absent only while Redis has none either.
  const secret = redisSecret === undefined ? undefined : { key: "redis_password", name: redisSecret };
  return {
    version: "3.8",
    services: {
      app: {
        image: images.app,
        environment: {
          PORT: String(APP_CONTAINER_PORT),
          // Redis runs on the redis nodes as OS services (role redis); the app follows the primary
          // their sentinels name, and acknowledges a count once a replica has it (docs/app.md).
          REDIS_SENTINELS: t.redisNodes.map((n) => `${n.address}:${REDIS_SENTINEL_PORT}`).join(","),
          REDIS_MASTER_NAME,
          // A lone Redis has no replica to wait for (and no failover either).
          REDIS_ACK_REPLICAS: t.redisNodes.length > 1 ? "1" : "0",
          REDIS_TIMEOUT_MS: String(APP_REDIS_TIMEOUT_MS),
          ...(secret ? { REDIS_PASSWORD_FILE: REDIS_PASSWORD_PATH } : {}),
          NODE_NAME: "{{.Node.Hostname}}",
          LOG_LEVEL: "info",
          // The LB checks /readyz every second and drops a server after 2 failures.
          DRAIN_MS: "3000",
          SHUTDOWN_TIMEOUT_MS: "12000",
        },
        ...(secret ? { secrets: [{ source: secret.key, target: REDIS_PASSWORD_PATH.split("/").at(-1) }] } : {}),
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
          resources: {
            limits: { memory: MEMORY.app, ...(options.appCpus === undefined ? {} : { cpus: String(options.appCpus) }) },
            reservations: { memory: "96M" },
          },
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
    ...(secret ? { secrets: { [secret.key]: { external: true, name: secret.name } } } : {}),
  };
}

/** The stack file `docker stack deploy -c` reads; the same arguments as stackModel. */
export function renderStack(...args: Parameters<typeof stackModel>): string {
  return `# Generated by pifleet from the fleet file; do not edit (run pifleet app deploy).\n${stringify(stackModel(...args), { lineWidth: 0, version: "1.1" })}`;
}
