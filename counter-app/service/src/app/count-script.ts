import { createHash } from "node:crypto";

/**
 * The one Redis command a batch of views is: a Lua script that counts every
 * page of the batch and the serving node atomically, keeps the set of pages
 * bounded, and refuses the whole batch when Redis runs it after its deadline.
 * Pure: building the arguments and reading the reply; redis-store.ts sends it.
 */

/** Sorted set page → views: bounded by PAGES_MAX, the coldest page (fewest views) is evicted first. */
export const PAGES_KEY = "pifleet:pages";
/** Hash node → views it served: one field per node, never evicted, the source of the total. */
export const NODES_KEY = "pifleet:nodes";

/**
 * `#!lua` (no flags): Redis checks before the script starts that it may write
 * (maxmemory, min-replicas-to-write, a replica's read-only), so a refused
 * batch leaves no partial effect — no page evicted for a count that failed.
 * TIME is Redis's clock: a batch that waited in a paused or stalled Redis past
 * its deadline (when the app has already answered 503) changes nothing.
 *
 * KEYS: pages, nodes. ARGV: deadline (ms, Redis clock), max pages, node, views in total, then page, views, page, views, …
 * Reply: nil when too late, else { pages evicted, new count of each page in ARGV order }.
 */
export const COUNT_SCRIPT = `#!lua
local t = redis.call('TIME')
if tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) > tonumber(ARGV[1]) then return nil end
local max = tonumber(ARGV[2])
local evicted = 0
local reply = { 0 }
for i = 5, #ARGV, 2 do
  if not redis.call('ZSCORE', KEYS[1], ARGV[i]) and redis.call('ZCARD', KEYS[1]) >= max then
    redis.call('ZPOPMIN', KEYS[1])
    evicted = evicted + 1
  end
  reply[#reply + 1] = redis.call('ZINCRBY', KEYS[1], ARGV[i + 1], ARGV[i])
end
reply[1] = evicted
redis.call('HINCRBY', KEYS[2], ARGV[3], ARGV[4])
return reply
`;

/** What EVALSHA names the script by; a primary that lacks it (NOSCRIPT) gets the whole script once. */
export const COUNT_SCRIPT_SHA1 = createHash("sha1").update(COUNT_SCRIPT).digest("hex");

export interface CountRequest {
  batch: ReadonlyMap<string, number>;
  node: string;
  pagesMax: number;
  /** Unix ms on Redis's clock after which Redis must not apply the batch. */
  deadlineRedisMs: number;
}

export function countScriptOptions(r: CountRequest): { keys: string[]; arguments: string[] } {
  let total = 0;
  const pages: string[] = [];
  for (const [page, n] of r.batch) {
    total += n;
    pages.push(page, String(n));
  }
  return {
    keys: [PAGES_KEY, NODES_KEY],
    arguments: [String(Math.floor(r.deadlineRedisMs)), String(r.pagesMax), r.node, String(total), ...pages],
  };
}

export type CountReply = { applied: false } | { applied: true; evicted: number; counts: Map<string, number> };

/** Reads the script's reply for `batch` (pages in the order countScriptOptions sent them). */
export function parseCountReply(reply: unknown, batch: ReadonlyMap<string, number>): CountReply {
  if (reply === null) return { applied: false };
  if (!Array.isArray(reply) || reply.length !== batch.size + 1)
    throw new Error(`unexpected reply from the count script: ${JSON.stringify(reply)}`);
  const counts = new Map<string, number>();
  let i = 1;
  for (const page of batch.keys()) counts.set(page, Number(reply[i++]));
  return { applied: true, evicted: Number(reply[0]), counts };
}
