import type { Logger } from "pino";
import { ClientClosedError, ClientOfflineError, createClient, createSentinel, ErrorReply } from "redis";
import { StoreUnavailableError, type ViewStore } from "./batcher.js";
import type { AppConfig } from "./config.js";
import { COUNT_SCRIPT, COUNT_SCRIPT_SHA1, countScriptOptions, NODES_KEY, PAGES_KEY, parseCountReply } from "./count-script.js";
import { betterSample, type ClockSample, redisDeadline, SAMPLE_MAX_AGE_MS, sampleFrom } from "./redis-clock.js";

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
  hGetAll(key: string): Promise<Record<string, string>>;
  zRangeWithScores(key: string, min: number, max: number, options: { REV: true }): Promise<unknown>;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  evalSha(sha1: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  time(): Promise<unknown>;
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
export type RedisTarget = Pick<AppConfig, "redisUrl" | "redisSentinels" | "redisMasterName" | "redisPassword">;

function newClient(target: RedisTarget): Redis {
  // As the user `default`: a Redis without a password yet lets it in with any, so the app may get the password first.
  const auth = target.redisPassword === undefined ? {} : { username: "default", password: target.redisPassword };
  if (target.redisSentinels.length === 0) return createClient({ url: target.redisUrl, ...CLIENT_OPTIONS, ...auth });
  // reserveClient: every command of the app travels on one connection to the primary, so the
  // commands of a batch are pipelined and its WAIT covers exactly the writes sent before it.
  return createSentinel({
    name: target.redisMasterName,
    sentinelRootNodes: target.redisSentinels,
    reserveClient: true,
    masterPoolSize: 1,
    nodeClientOptions: { ...CLIENT_OPTIONS, ...auth },
    sentinelClientOptions: { socket: { connectTimeout: 1000, reconnectStrategy: false }, ...auth },
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
 * Pauses before re-sending a batch a read-only replica refused; the last one repeats until the batch's
 * deadline. The old primary of a planned hand-off refuses the writes it held with READONLY, and keeps
 * refusing new ones until the client follows the new primary: node-redis asks the sentinels again on each
 * READONLY, but they name the new primary only when the failover ends (+switch-master), 1–3 s after the
 * promotion. So the retries cover the batch's whole time, not a fixed count.
 */
export const READONLY_RETRY_DELAYS_MS: readonly number[] = [50, 100, 200, 250];

/** A reply `READONLY You can't write against a read only replica.`: the write was refused, it never ran. */
export const isReadOnlyRefusal = (err: unknown): boolean => err instanceof Error && err.message.startsWith("READONLY");

/** The batch's script was refused as READONLY: it never ran, so sending it again cannot count twice. */
class NothingWrittenError extends StoreUnavailableError {}

/** The primary does not know the script by its SHA yet (a new primary, a restart): nothing ran. */
class ScriptMissingError extends StoreUnavailableError {}

export interface StoreOptions {
  durability: Durability;
  pagesMax: number;
  /** Pages the count script evicted to make room for new ones. */
  onEvicted?: (pages: number) => void;
  retryDelaysMs?: readonly number[];
  pause?: (ms: number) => Promise<unknown>;
  now?: () => number;
}

/** `redis` is asked for the current client on every batch: a sentinel client may be replaced (server.ts). */
export function redisViewStore(redis: () => Redis, options: StoreOptions): ViewStore {
  const { retryDelaysMs = READONLY_RETRY_DELAYS_MS, pause = (ms) => new Promise((r) => setTimeout(r, ms)), now = Date.now } = options;
  const clock = redisClock(now);
  return {
    async add(batch, node, giveUpAt) {
      // With WAIT the script must run early enough for WAIT to answer before the app gives up.
      const applyBy = giveUpAt - (options.durability.replicas > 0 ? options.durability.timeoutMs : 0);
      let sendScript = false;
      for (let attempt = 0; ; ) {
        try {
          const client = redis();
          const deadlineRedisMs = redisDeadline(applyBy, await clock.sample(client));
          const args = countScriptOptions({ batch, node, pagesMax: options.pagesMax, deadlineRedisMs });
          return await addOnce(client, args, sendScript, batch, options);
        } catch (err) {
          if (err instanceof ScriptMissingError && !sendScript) {
            sendScript = true;
            continue;
          }
          // Only a batch that never ran is sent again (to the primary the client follows by then), while it
          // can still run in time; its deadline still holds, so a retry Redis runs too late changes nothing.
          const delay = retryDelaysMs[Math.min(attempt++, retryDelaysMs.length - 1)] ?? 0;
          if (!(err instanceof NothingWrittenError) || now() + delay >= applyBy) throw asUnavailable(err);
          await pause(delay);
        }
      }
    },
  };
}

async function addOnce(
  client: Redis,
  args: { keys: string[]; arguments: string[] },
  sendScript: boolean,
  batch: ReadonlyMap<string, number>,
  { durability, onEvicted }: StoreOptions,
): Promise<Map<string, number>> {
  // One command per batch, WAIT right behind it on the same connection: it covers exactly that script.
  // By SHA: 40 bytes instead of the script's 700 on every batch.
  const [ran, firstWait] = await Promise.allSettled([
    sendScript ? client.eval(COUNT_SCRIPT, args) : client.evalSha(COUNT_SCRIPT_SHA1, args),
    durability.replicas > 0 ? client.wait(durability.replicas, durability.timeoutMs) : Promise.resolve(0),
  ]);
  // Redis refused the WAIT although the script ran: node-redis met READONLY at the old primary, found the new one
  // and sent the script there alone, while the WAIT behind it got "WAIT cannot be used with replica instances".
  // A WAIT now, on the connection that ran the script, covers it (only a second switch in between would not).
  const waited =
    ran.status === "fulfilled" && firstWait.status === "rejected" && firstWait.reason instanceof ErrorReply
      ? (await Promise.allSettled([client.wait(durability.replicas, durability.timeoutMs)]))[0]
      : firstWait;
  if (ran.status === "rejected") {
    if (ran.reason instanceof Error && ran.reason.message.startsWith("NOSCRIPT"))
      throw new ScriptMissingError(`Redis does not know the count script yet: ${ran.reason.message}`, false);
    if (isReadOnlyRefusal(ran.reason))
      throw new NothingWrittenError(`Redis refused the batch as a read-only replica: ${(ran.reason as Error).message}`, false);
    throw ran.reason;
  }
  const reply = parseCountReply(ran.value, batch);
  if (!reply.applied)
    throw new StoreUnavailableError("Redis ran the batch after its deadline (it was paused or stalled) and counted nothing", false);
  if (reply.evicted > 0) onEvicted?.(reply.evicted);
  if (waited.status === "rejected")
    throw new StoreUnavailableError(`WAIT failed after the batch was counted on the primary: ${String(waited.reason)}`, "unknown");
  if (waited.value < durability.replicas)
    throw new StoreUnavailableError(
      `only ${waited.value} of ${durability.replicas} Redis replicas confirmed the batch within ${durability.timeoutMs} ms (counted on the primary)`,
      "unknown",
    );
  return reply.counts;
}

/**
 * Whether a failed command may have run. A reply from Redis (OOM, NOREPLICAS, READONLY, …) refused the
 * script before it started (`#!lua`); a client offline or closed never sent it. Anything else — the
 * connection lost while the reply was due — leaves it unknown.
 */
function asUnavailable(err: unknown): StoreUnavailableError {
  if (err instanceof StoreUnavailableError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const neverRan = err instanceof ErrorReply || err instanceof ClientOfflineError || err instanceof ClientClosedError;
  return new StoreUnavailableError(message, neverRan ? false : "unknown");
}

/** The offset of Redis's clock, sampled with TIME on the batches' connection; renewed in the background. */
function redisClock(now: () => number) {
  let current: ClockSample | undefined;
  let renewing: Promise<ClockSample> | undefined;
  const take = async (client: Redis) => {
    const sentAt = now();
    const time = await client.time();
    current = betterSample(current, sampleFrom(sentAt, time, now()));
    return current;
  };
  return {
    async sample(client: Redis): Promise<ClockSample> {
      if (current === undefined) return take(client);
      if (now() - current.takenAt > SAMPLE_MAX_AGE_MS && renewing === undefined)
        renewing = take(client)
          .catch(() => current as ClockSample)
          .finally(() => {
            renewing = undefined;
          });
      return current;
    },
  };
}

/** Pages /api/stats lists: the most viewed. */
export const STATS_PAGES = 100;

export interface Stats {
  /** The STATS_PAGES most viewed pages. */
  pages: Record<string, number>;
  nodes: Record<string, number>;
  /** Every view counted, by the per-node counts: an evicted page's views stay in it. */
  total: number;
}

export async function readNodes(client: Redis): Promise<Record<string, number>> {
  const nodes = await client.hGetAll(NODES_KEY);
  return Object.fromEntries(Object.entries(nodes).map(([k, v]) => [k, Number(v)]));
}

export async function readStats(client: Redis): Promise<Stats> {
  const [top, nodes] = await Promise.all([client.zRangeWithScores(PAGES_KEY, 0, STATS_PAGES - 1, { REV: true }), readNodes(client)]);
  const pages = Object.fromEntries((top as { value: unknown; score: unknown }[]).map((e) => [String(e.value), Number(e.score)]));
  return { pages, nodes, total: Object.values(nodes).reduce((a, b) => a + b, 0) };
}
