/**
 * The memory pifleet plans for each thing it runs on a node, in MiB: the figures of the
 * memory budget (budget.ts). docs/fleet-yaml.md#memory-budget gives the measurements
 * behind each. The OS and the GPU split come from fleet.yaml (runners.osReserveMiB,
 * os.gpuMemMiB); jobs from each pool's jobMemoryMiB.
 */

/**
 * Daemons pifleet installs with Ansible. None has a cgroup limit, so these are sizes measured
 * on a configured 2-node sim with the stack deployed (PSS, amd64; the arm64 builds of these Go
 * programs are alike), rounded up with headroom.
 */
export const DAEMON_MEMORY_MIB = {
  /** dockerd + containerd + a containerd-shim per container: 142 MiB measured on a worker, 160 on the manager. */
  dockerEngine: 192,
  /** What a manager's dockerd holds beyond a worker's (Raft store, dispatcher): +9 MiB measured; it grows with nodes and tasks. */
  swarmManager: 32,
  /** The gitlab-runner process itself (its jobs are the pools' lines). The sim runs a stand-in, so this is an estimate. */
  gitlabRunner: 64,
  /** Debian's docker-registry on the registry node: 42 MiB measured after pushing the app's three images. */
  registry: 64,
  /**
   * Debian's redis-server on a redis node (the primary or a replica: each holds all counts): its
   * maxmemory (REDIS_MAXMEMORY_MIB) + ~16 MiB for the process and buffers + the worst copy-on-write
   * of the fork that rewrites the AOF (the whole dataset). The counter's data is a few hundred kB.
   */
  redisServer: 112,
  /** Debian's redis-sentinel beside it: a few MiB resident. */
  redisSentinel: 16,
  /**
   * Debian's keepalived on a load-balancer node when the fleet has a VIP: its parent and VRRP child measured
   * 5.2 MiB PSS (14.4 MiB RSS) on a 4-node sim; its health check forks a shell and curl every few seconds.
   */
  keepalived: 16,
} as const;

/** Redis's maxmemory (noeviction: writes fail beyond it); the Ansible role gets it from the inventory. */
export const REDIS_MAXMEMORY_MIB = 48;

/**
 * The counter stack's cgroup memory limits: a container can never use more. counter-app/deploy
 * writes them into the Swarm stack from here, so the budget and the stack cannot disagree.
 */
export const STACK_MEMORY_MIB = {
  /** One app replica; a node of the app role runs one (a global service). */
  app: 192,
  /** HAProxy on the load balancer's node. */
  loadBalancer: 64,
} as const;
