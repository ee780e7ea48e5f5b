import type { Logger } from "pino";
import { createClient } from "redis";
import type { ViewStore } from "./batcher.js";

/** Hash of page → views, and hash of node → views it served. */
export const VIEWS_KEY = "pifleet:views";
export const NODES_KEY = "pifleet:nodes";

/** Named through the package, not inferred: an inferred type would spell out @redis/client's internal paths in the .d.ts. */
export type Redis = ReturnType<typeof createClient>;

/**
 * Exponential backoff with jitter, capped at 2 s: a restarted Redis is found
 * again within about two seconds, and many replicas do not reconnect in lockstep.
 */
export function reconnectDelay(retries: number, random: () => number = Math.random): number {
  const base = Math.min(2000, 50 * 2 ** Math.min(retries, 10));
  return Math.round(base / 2 + (random() * base) / 2);
}

/**
 * A client that never queues commands while disconnected (so requests get a
 * 503 at once instead of hanging) and reconnects forever with backoff.
 */
function newClient(url: string): Redis {
  return createClient({
    url,
    disableOfflineQueue: true,
    socket: { connectTimeout: 2000, reconnectStrategy: (retries: number) => reconnectDelay(retries) },
  });
}

export function createRedis(url: string, log: Logger): Redis {
  const client = newClient(url);
  let up = false;
  client.on("ready", () => {
    up = true;
    log.info({ event: "redis.ready" }, "connected to Redis");
  });
  client.on("error", (err: Error) => {
    // Log the first failure of an outage, not every reconnect attempt.
    if (up || !client.isOpen) log.warn({ event: "redis.error", err: err.message }, "Redis connection failed; retrying with backoff");
    up = false;
  });
  return client;
}

export function redisViewStore(client: Redis): ViewStore {
  return {
    async add(batch, node) {
      const pages = [...batch];
      const total = pages.reduce((sum, [, n]) => sum + n, 0);
      // Commands issued in the same tick travel as one pipeline (no MULTI needed:
      // each HINCRBY is atomic on its own).
      const [counts] = await Promise.all([
        Promise.all(pages.map(([page, n]) => client.hIncrBy(VIEWS_KEY, page, n))),
        client.hIncrBy(NODES_KEY, node, total),
      ]);
      return new Map(pages.map(([page], i) => [page, Number(counts[i])]));
    },
  };
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
