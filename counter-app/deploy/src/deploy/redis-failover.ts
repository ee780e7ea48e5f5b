import { type Fleet, type FleetNode, OperationError } from "@pifleet/fleet";
import { type Clock, type NodeShell, systemClock } from "@pifleet/io";
import { appTopology } from "./cluster.js";
import { type Progress, withShell } from "./deploy.js";
import { REDIS_MASTER_NAME, REDIS_SENTINEL_PORT } from "./stack.js";

/** What `INFO replication` says about one redis-server (pure parse). */
export interface ReplicationInfo {
  role: "master" | "slave";
  /** A replica's primary, as it was told (an address). */
  masterHost?: string;
  /** A replica is connected to its primary and not in a full resync. */
  synced: boolean;
}

export function parseReplicationInfo(text: string): ReplicationInfo {
  const fields = new Map(
    text
      .split(/\r?\n/)
      .filter((l) => l.includes(":") && !l.startsWith("#"))
      .map((l) => [l.slice(0, l.indexOf(":")), l.slice(l.indexOf(":") + 1).trim()] as const),
  );
  const role = fields.get("role");
  if (role !== "master" && role !== "slave") throw new Error(`INFO replication has no role line: ${JSON.stringify(text.slice(0, 200))}`);
  if (role === "master") return { role, synced: false };
  const masterHost = fields.get("master_host");
  return {
    role,
    ...(masterHost ? { masterHost } : {}),
    synced: fields.get("master_link_status") === "up" && fields.get("master_sync_in_progress") === "0",
  };
}

/** `SENTINEL get-master-addr-by-name` as redis-cli prints it (address, port; empty when unknown) → the address. */
export function parseMasterAddress(text: string): string | undefined {
  const address = text.split(/\r?\n/)[0]?.trim();
  return address ? address : undefined;
}

export interface RedisHandOffOptions {
  fleet: Fleet;
  shell?: NodeShell;
  clock?: Clock;
  progress?: Progress;
  /** Give up after this long (default 60 s): the sentinels may still finish the failover on their own. */
  timeoutMs?: number;
  pollMs?: number;
}

const sentinelCli = (...args: string[]) => ["redis-cli", "-p", String(REDIS_SENTINEL_PORT), ...args];

/** Asks the redis nodes' sentinels in turn; the first that names a primary answers. */
async function askPrimary(shell: NodeShell, redisNodes: FleetNode[]): Promise<FleetNode> {
  const tried: string[] = [];
  for (const node of redisNodes) {
    const result = await shell
      .run(node, sentinelCli("SENTINEL", "get-master-addr-by-name", REDIS_MASTER_NAME), {
        describe: "ask the sentinel for the Redis primary",
      })
      .catch((err: unknown) => ({ stdout: "", error: err instanceof Error ? err.message : String(err) }));
    const address = parseMasterAddress(result.stdout);
    const primary = redisNodes.find((n) => n.address === address);
    if (primary) return primary;
    tried.push(`${node.name}: ${"error" in result ? result.error : address ? `names ${address}, not a redis node` : "knows no primary"}`);
  }
  throw new OperationError(
    `no sentinel named the Redis primary (${tried.join("; ")})`,
    "Check redis-sentinel on the redis nodes (systemctl status redis-sentinel), or run pifleet configure --tags redis.",
  );
}

/** Hook for rolling changes: which node holds the Redis primary now, by the sentinels. */
export async function redisPrimary(options: Omit<RedisHandOffOptions, "clock" | "timeoutMs" | "pollMs">): Promise<FleetNode> {
  const { redisNodes } = appTopology(options.fleet);
  return withShell(options, (shell) => askPrimary(shell, redisNodes));
}

/**
 * Hook for rolling changes: before `node` goes down on purpose, make sure it does not hold the
 * Redis primary. When it does: SENTINEL FAILOVER (the sentinels pick the replica with the
 * highest offset, and the primary waits for it before it steps down), then wait until the
 * sentinels name another node and `node` is that node's replica, connected and not resyncing.
 * Returns the primary afterwards and whether it moved.
 */
export async function handOffRedisPrimary(node: string, options: RedisHandOffOptions): Promise<{ moved: boolean; primary: FleetNode }> {
  const { redisNodes } = appTopology(options.fleet);
  const leaving = redisNodes.find((n) => n.name === node);
  if (!leaving) return { moved: false, primary: await redisPrimary(options) };
  const { clock = systemClock, progress = () => {}, timeoutMs = 60_000, pollMs = 500 } = options;
  return withShell(options, async (shell) => {
    const before = await askPrimary(shell, redisNodes);
    if (before.name !== node) return { moved: false, primary: before };
    const others = redisNodes.filter((n) => n.name !== node);
    if (others.length === 0) throw new OperationError(`${node} is the only Redis node: there is no replica to hand the primary to`);
    progress(`Redis: handing the primary on ${node} to a replica (SENTINEL FAILOVER)`);
    await shell.run(leaving, sentinelCli("SENTINEL", "FAILOVER", REDIS_MASTER_NAME), { describe: "start a Redis failover" });
    const deadline = clock.now() + timeoutMs;
    let last = "the sentinels still name it";
    while (clock.now() < deadline) {
      await clock.sleep(pollMs);
      const primary = await askPrimary(shell, others).catch(() => undefined);
      if (!primary) continue;
      const info = parseReplicationInfo(
        (await shell.run(leaving, ["redis-cli", "INFO", "replication"], { describe: "read the old primary's replication state" })).stdout,
      );
      if (info.role === "slave" && info.masterHost === primary.address && info.synced) {
        progress(`Redis: ${primary.name} is the primary; ${node} replicates it`);
        return { moved: true, primary };
      }
      last = `${primary.name} is named primary; ${node} is ${info.role === "slave" ? `a replica of ${info.masterHost}, ${info.synced ? "synced" : "still syncing"}` : "still a primary"}`;
    }
    throw new OperationError(
      `the Redis primary did not move off ${node} within ${Math.round(timeoutMs / 1000)} s (${last})`,
      `Look at the sentinels' log on the redis nodes (/var/log/redis/redis-sentinel.log); do not take ${node} down until it is a synced replica.`,
    );
  });
}
