import { swarmRole } from "./cluster.js";
import { poolsByNode } from "./derive.js";
import { type JobMix, jobSlots, type PoolSlots } from "./job-slots.js";
import { DAEMON_MEMORY_MIB, STACK_MEMORY_MIB } from "./memory-figures.js";
import type { Fleet, FleetNode, RunnerPool } from "./schema.js";
import { type FleetTopology, resolveTopology } from "./topology.js";

/** One thing a node runs, and the memory planned for it. */
export interface BudgetLine {
  item: string;
  mib: number;
  /** Where the figure comes from. */
  why: string;
}

/** What a node runs against its memory, and the job capacity that leaves. */
export interface NodeBudget {
  node: string;
  memoryMiB: number;
  /** Everything but jobs: the OS, the daemons, the app stack's services. */
  fixed: BudgetLine[];
  fixedMiB: number;
  /** memoryMiB − fixedMiB; negative when the node is over-committed before any job. */
  leftMiB: number;
  /** Per runner pool on the node: its runner's `limit`. */
  pools: PoolSlots[];
  /** The runner's `concurrent`: jobs at once over all the node's pools. */
  jobSlots: number;
  /** The largest mix of jobs the slots and limits allow. */
  jobs: JobMix[];
  jobsMiB: number;
  totalMiB: number;
  /** memoryMiB − totalMiB. */
  freeMiB: number;
}

/** Raspberry Pi OS takes gpu_mem from RAM at boot; a sim node is a container and an amd64 node no Pi. */
const hasGpuSplit = (fleet: Fleet, node: FleetNode) => !fleet.simulated && node.arch !== "amd64";

/** What runs on a node besides jobs, in the order a person reads it: OS, daemons, then the app stack. */
function fixedLines(fleet: Fleet, node: FleetNode, topology: FleetTopology, pools: readonly RunnerPool[]): BudgetLine[] {
  const lines: BudgetLine[] = [];
  const add = (on: boolean, item: string, mib: number, why: string) => {
    if (on) lines.push({ item, mib, why });
  };
  const here = (other: FleetNode | undefined) => other?.name === node.name;
  add(true, "OS", fleet.runners.osReserveMiB, "runners.osReserveMiB: kernel, system services, page cache (no swap)");
  add(hasGpuSplit(fleet, node), "GPU", fleet.os.gpuMemMiB, "os.gpuMemMiB: gpu_mem, taken from RAM at boot");
  add(true, "dockerd + containerd", DAEMON_MEMORY_MIB.dockerEngine, "every node runs Docker");
  add(swarmRole(node) === "manager", "Swarm manager", DAEMON_MEMORY_MIB.swarmManager, "Raft store and dispatcher in dockerd");
  add(node.roles.includes("runner") || pools.length > 0, "gitlab-runner", DAEMON_MEMORY_MIB.gitlabRunner, "the runner process");
  add(here(topology.registry.node), "registry", DAEMON_MEMORY_MIB.registry, "app.registry (default: first manager)");
  const redis = fleet.app !== undefined && node.roles.includes("redis");
  add(redis, "redis-server", DAEMON_MEMORY_MIB.redisServer, "redis role: the primary or a replica, maxmemory + AOF fork");
  add(redis, "redis-sentinel", DAEMON_MEMORY_MIB.redisSentinel, "redis role: votes on failovers");
  add(
    topology.loadBalancer?.nodes.some(here) ?? false,
    "load balancer",
    STACK_MEMORY_MIB.loadBalancer,
    "stack limit; loadbalancer role or app.loadBalancer",
  );
  add(
    topology.loadBalancer?.vip !== undefined && topology.loadBalancer.nodes.some(here),
    "keepalived",
    DAEMON_MEMORY_MIB.keepalived,
    "loadbalancer node with app.loadBalancer.vip: keeps the VIP",
  );
  add(fleet.app !== undefined && node.roles.includes("app"), "app", STACK_MEMORY_MIB.app, "stack limit; one replica per app node");
  return lines;
}

const sum = (lines: readonly { mib: number }[]) => lines.reduce((total, l) => total + l.mib, 0);

/** One node's budget. Pure; `pools` are the runner pools placing a runner on it. */
function nodeBudget(fleet: Fleet, node: FleetNode, topology: FleetTopology, pools: readonly RunnerPool[]): NodeBudget {
  const fixed = fixedLines(fleet, node, topology, pools);
  const fixedMiB = sum(fixed);
  const leftMiB = node.memoryMiB - fixedMiB;
  const slots = jobSlots(
    leftMiB,
    node.cpus,
    pools.map((p) => ({ pool: p.name, jobMemoryMiB: p.jobMemoryMiB })),
  );
  const totalMiB = fixedMiB + slots.worstCaseMiB;
  return {
    node: node.name,
    memoryMiB: node.memoryMiB,
    fixed,
    fixedMiB,
    leftMiB,
    pools: slots.pools,
    jobSlots: slots.slots,
    jobs: slots.worstCase,
    jobsMiB: slots.worstCaseMiB,
    totalMiB,
    freeMiB: node.memoryMiB - totalMiB,
  };
}

/**
 * Per node, in fleet order: what runs there (OS, GPU split, Docker, Swarm manager,
 * gitlab-runner, registry, Redis, load balancer, keepalived, app replica) against its memory, and the
 * job slots what is left allows. Pure; call it on a validated fleet.
 */
export function memoryBudget(fleet: Fleet, topology: FleetTopology = resolveTopology(fleet)): NodeBudget[] {
  const byNode = poolsByNode(fleet);
  return fleet.nodes.map((n) => nodeBudget(fleet, n, topology, byNode.get(n.name) ?? []));
}
