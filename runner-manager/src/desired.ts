import { isIP } from "node:net";
import { type Fleet, type FleetNode, InputError, memoryBudget, poolsByNode, type RunnerPool, type RunnerScopeRef } from "@pifleet/fleet";
import { describeRunner, renderNote, runnerKey, runnerName } from "./identity.js";
import type { Desired, DesiredNode, DesiredRunner, NodeSettings, RunnerScope } from "./types.js";

/** Seconds gitlab-runner waits for jobs on a forceful shutdown; drains use SIGQUIT and wait longer. */
const SHUTDOWN_TIMEOUT_SECONDS = 30;
const DEFAULT_DOCKER_IMAGE = "debian:bookworm-slim";
/** gitlab-runner's own cache volume, which every docker runner keeps. */
const CACHE_VOLUME = "/cache";
/** The node's engine inside the job container (pool dockerSocket): image builds and deploys use the node's Docker. */
const DOCKER_SOCKET_VOLUME = "/var/run/docker.sock:/var/run/docker.sock";

/** The fleet's resolved runner scope (FleetTopology.runnerScope) as GitLab's API names it. */
export function runnerScope(ref: RunnerScopeRef): RunnerScope {
  return ref.type === "instance" ? { type: "instance_type" } : { type: `${ref.type}_type`, id: ref.id };
}

/** Metrics bind to the node's own address so they are reachable on the LAN, not from everywhere. */
export function listenAddress(node: FleetNode, port: number): string {
  const family = isIP(node.address);
  if (family === 6) return `[${node.address}]:${port}`;
  return family === 4 ? `${node.address}:${port}` : `0.0.0.0:${port}`;
}

/** `limit`: the pool's job slots on the node, from its memory budget (validation guarantees at least 1). */
function desiredRunner(fleet: Fleet, node: FleetNode, pool: RunnerPool, limit: number): DesiredRunner {
  const identity = { cluster: fleet.cluster, node: node.name, pool: pool.name };
  const tags = [...pool.tags].sort();
  const description = describeRunner(identity, { tags, protected: pool.protected, runUntagged: pool.runUntagged });
  return {
    key: runnerKey(identity),
    node: node.name,
    pool: pool.name,
    description,
    tags,
    runUntagged: pool.runUntagged,
    accessLevel: pool.protected ? "ref_protected" : "not_protected",
    maintenanceNote: renderNote({ identity, pausedByPifleet: false }),
    block: {
      name: runnerName(identity),
      url: fleet.gitlab.url,
      executor: pool.executor,
      limit,
      // A second job request in flight lets a node pick up work while one long-poll waits;
      // more requests than job slots would only add load on GitLab.
      requestConcurrency: Math.min(limit, 2),
      ...(pool.executor === "shell"
        ? { shell: "bash" }
        : {
            docker: {
              image: pool.image ?? DEFAULT_DOCKER_IMAGE,
              memory: `${pool.jobMemoryMiB}m`,
              memorySwap: `${pool.jobMemoryMiB}m`,
              volumes: pool.dockerSocket ? [DOCKER_SOCKET_VOLUME, CACHE_VOLUME] : [CACHE_VOLUME],
            },
          }),
    },
  };
}

/** Pools × nodes: one runner per node and pool, with limit and concurrent from what the node's memory budget leaves. */
export function desiredFromFleet(fleet: Fleet): Desired {
  const byNode = poolsByNode(fleet);
  const budgets = new Map(memoryBudget(fleet).map((b) => [b.node, b]));
  const nodes: DesiredNode[] = [];
  for (const node of fleet.nodes) {
    const pools = byNode.get(node.name) ?? [];
    const budget = budgets.get(node.name);
    // A runner node without pools is kept in view so its old pifleet blocks get removed.
    if (pools.length === 0 && !node.roles.includes("runner")) continue;
    const settings: NodeSettings = {
      // gitlab-runner refuses concurrent = 0.
      concurrent: Math.max(1, budget?.jobSlots ?? 0),
      checkInterval: fleet.runners.checkIntervalSeconds,
      listenAddress: listenAddress(node, fleet.runners.metricsPort),
      shutdownTimeout: SHUTDOWN_TIMEOUT_SECONDS,
    };
    nodes.push({
      name: node.name,
      settings,
      runners: pools.map((p) => desiredRunner(fleet, node, p, budget?.pools.find((s) => s.pool === p.name)?.limit ?? 0)),
    });
  }
  return { cluster: fleet.cluster, nodes };
}

/** The runner node a command names; bad input (exit 2) when fleet.yaml gives it no runner. */
export function desiredNode(desired: Desired, name: string): DesiredNode {
  const node = desired.nodes.find((n) => n.name === name);
  if (node) return node;
  const known = desired.nodes.map((n) => n.name).join(", ") || "none";
  throw new InputError(`node ${name} runs no pifleet runner in fleet.yaml`, `Runner nodes: ${known}.`);
}
