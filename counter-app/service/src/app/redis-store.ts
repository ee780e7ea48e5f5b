import type { Logger } from "pino";
import { createClient, createSentinel } from "redis";
import { StoreUnavailableError, type ViewStore } from "./batcher.js";
import type { AppConfig } from "./config.js";

/** Hash of page → views, and hash of node → views it served. */
export const VIEWS_KEY = "pifleet:views";
export const NODES_KEY = "pifleet:nodes";

/**
 * What the app needs from Redis, whether it reaches one server (REDIS_URL) or
 * follows the primary the sentinels name (REDIS_SENTINELS). Both node-redis
 * clients fit it as they are.
 */
export interface Redis {
  readonly isReady: boolean;
  readonly isOpen: boolean;
  connect(): Promise<unknown>;
  close(): Promise<unknown>;
  destroy(): unknown;
  ping(): Promise<unknown>;
  hIncrBy(key: string, field: string, by: number): Promise<number>;
  hGetAll(key: string): Promise<Record<string, string>>;
  /** WAIT: how many replicas have every write this connection sent before it. */
  wait(replicas: number, timeoutMs: number): Promise<number>;
}

/**
 * Exponential backoff with jitter, capped at 2 s: a restarted Redis is found
 * again within about two seconds, and many replicas do not reconnect in lockstep.
 */
export function reconnectDelay(retries: number, random: () => number = Math.random): number {
  const base = Math.min(2000, 50 * 2 ** Math.min(retries, 10));
  return Math.round(base / 2 + (random() * base) / 2);
}

/**
 * Never queue commands while disconnected (so requests get a 503 at once
 * instead of hanging) and reconnect forever with backoff.
 */
const CLIENT_OPTIONS = {
  disableOfflineQueue: true,
  socket: { connectTimeout: 2000, reconnectStrategy: (retries: number) => reconnectDelay(retries) },
};

/** The connection settings that pick one of the two ways to reach Redis. */
export type RedisTarget = Pick<AppConfig, "redisUrl" | "redisSentinels" | "redisMasterName">;

function newClient(target: RedisTarget): Redis {
  if (target.redisSentinels.length === 0) return createClient({ url: target.redisUrl, ...CLIENT_OPTIONS });
  // reserveClient: every command of the app travels on one connection to the primary, so the
  // commands of a batch are pipelined and its WAIT covers exactly the writes sent before it.
  return createSentinel({
    name: target.redisMasterName,
    sentinelRootNodes: target.redisSentinels,
    reserveClient: true,
    masterPoolSize: 1,
    nodeClientOptions: CLIENT_OPTIONS,
    sentinelClientOptions: { socket: { connectTimeout: 1000, reconnectStrategy: false } },
  });
}

export function createRedis(target: RedisTarget, log: Logger): Redis {
  const client = newClient(target);
  let up = false;
  const emitter = client as unknown as NodeJS.EventEmitter;
  emitter.on("ready", () => {
    up = true;
    log.info({ event: "redis.ready" }, "connected to Redis");
  });
  emitter.on("error", (err: unknown) => {
    // Log the first failure of an outage, not every reconnect attempt.
    const message = err instanceof Error ? err.message : String(err);
    if (up || !client.isOpen) log.warn({ event: "redis.error", err: message }, "Redis connection failed; retrying with backoff");
    up = false;
  });
  emitter.on("topology-change", (change: { type: string; node?: { host: string; port: number } }) => {
    if (change.type === "MASTER_CHANGE")
      log.info({ event: "redis.primary", primary: change.node }, "the sentinels name a new Redis primary");
  });
  return client;
}

/** A count is acknowledged only once this many replicas confirm they have it (0: no wait). */
export interface Durability {
  replicas: number;
  timeoutMs: number;
}

/**
 * Pauses before re-sending a batch every write of which a read-only replica refused: the old
 * primary of a hand-off (SENTINEL FAILOVER) refuses the writes it held with READONLY while the
 * client still follows it. Short enough to stay well inside REDIS_TIMEOUT_MS with the WAIT after it.
 */
export const READONLY_RETRY_DELAYS_MS: readonly number[] = [50, 100, 200, 300];

/** A reply `READONLY You can't write against a read only replica.`: the write was refused, it never ran. */
export const isReadOnlyRefusal = (err: unknown): boolean => err instanceof Error && err.message.startsWith("READONLY");

/** Every write of the batch was refused as READONLY: nothing of it ran, so sending it again cannot count twice. */
class NothingWrittenError extends StoreUnavailableError {}

/** `redis` is asked for the current client on every batch: a sentinel client may be replaced (server.ts). */
export function redisViewStore(
  redis: () => Redis,
  durability: Durability,
  retryDelaysMs: readonly number[] = READONLY_RETRY_DELAYS_MS,
  pause: (ms: number) => Promise<unknown> = (ms) => new Promise((r) => setTimeout(r, ms)),
): ViewStore {
  return {
    async add(batch, node) {
      for (let attempt = 0; ; attempt++) {
        try {
          return await addOnce(redis(), batch, node, durability);
        } catch (err) {
          // Only a batch nothing of which ran is sent again (to the primary the client follows by then);
          // a batch some write of which ran keeps its 503: sending it again could count a view twice.
          const delay = retryDelaysMs[attempt];
          if (!(err instanceof NothingWrittenError) || delay === undefined) throw err;
          await pause(delay);
        }
      }
    },
  };
}

async function addOnce(client: Redis, batch: ReadonlyMap<string, number>, node: string, durability: Durability) {
  const pages = [...batch];
  const total = pages.reduce((sum, [, n]) => sum + n, 0);
  // Commands issued in the same tick travel as one pipeline (no MULTI needed:
  // each HINCRBY is atomic on its own). WAIT, sent last, covers all of them.
  const [writes, waited] = await Promise.all([
    Promise.allSettled([...pages.map(([page, n]) => client.hIncrBy(VIEWS_KEY, page, n)), client.hIncrBy(NODES_KEY, node, total)]),
    // A failed WAIT is looked at after the writes: a batch refused as a whole is sent again whatever WAIT said.
    durability.replicas > 0 ? client.wait(durability.replicas, durability.timeoutMs).catch((err: unknown) => err) : 0,
  ]);
  const refused = writes.flatMap((w) => (w.status === "rejected" ? [w.reason] : []));
  if (refused.length === writes.length && refused.every(isReadOnlyRefusal))
    throw new NothingWrittenError(`Redis refused the batch as a read-only replica: ${(refused[0] as Error).message}`);
  if (refused.length > 0) throw refused[0];
  if (typeof waited !== "number") throw waited;
  if (waited < durability.replicas)
    throw new StoreUnavailableError(
      `only ${waited} of ${durability.replicas} Redis replicas confirmed the batch within ${durability.timeoutMs} ms`,
    );
  return new Map(pages.map(([page], i) => [page, Number((writes[i] as PromiseFulfilledResult<number>).value)]));
}

export interface Stats {
  pages: Record<string, number>;
  nodes: Record<string, number>;
  total: number;
}

export async function readStats(client: Redis): Promise<Stats> {
  const [pages, nodes] = await Promise.all([client.hGetAll(VIEWS_KEY), client.hGetAll(NODES_KEY)]);
  const toNumbers = (h: Record<string, string>) => Object.fromEntries(Object.entries(h).map(([k, v]) => [k, Number(v)]));
  const p = toNumbers(pages);
  return { pages: p, nodes: toNumbers(nodes), total: Object.values(p).reduce((a, b) => a + b, 0) };
}
