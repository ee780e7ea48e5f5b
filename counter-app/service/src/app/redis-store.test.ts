import { ErrorReply } from "redis";
import { describe, expect, it } from "vitest";
import { StoreUnavailableError } from "./batcher.js";
import { isReadOnlyRefusal, type Redis, reconnectDelay, redisViewStore } from "./redis-store.js";

describe("reconnectDelay", () => {
  it("doubles from 50 ms and caps at 2 s, jittered between half and full", () => {
    expect(reconnectDelay(0, () => 0)).toBe(25);
    expect(reconnectDelay(0, () => 1)).toBe(50);
    expect(reconnectDelay(3, () => 1)).toBe(400);
    expect(reconnectDelay(20, () => 1)).toBe(2000);
    expect(reconnectDelay(20, () => 0)).toBe(1000);
  });
});

const READONLY = "READONLY You can't write against a read only replica.";
/** Redis's clock in these tests: 10 s ahead of the app's, which is fixed at 1,000,000 ms. */
const NOW = 1_000_000;
const REDIS_AHEAD_MS = 10_000;

/**
 * A Redis that answers each count script from `replies` in order (a string is an error reply,
 * null "too late") and WAIT with `replicas`; it records each script's arguments.
 */
function fakeRedis(replies: (unknown[] | string | null)[], replicas: number | (number | Error)[] = 1) {
  const sent: string[][] = [];
  const commands: string[] = [];
  const run = (command: string) => async (_script: string, options: { arguments: string[] }) => {
    sent.push(options.arguments);
    commands.push(command);
    const reply = replies.shift();
    if (typeof reply === "string") throw new Error(reply);
    return reply === undefined ? [0, "0"] : reply;
  };
  const client = {
    time: async () => [String((NOW + REDIS_AHEAD_MS) / 1000), "0"],
    eval: run("EVAL"),
    evalSha: run("EVALSHA"),
    wait: async () => {
      const answer = typeof replicas === "number" ? replicas : replicas.shift();
      if (answer instanceof Error) throw answer;
      return answer ?? 1;
    },
  } as unknown as Redis;
  return { client, sent, commands };
}

const batch = new Map([["home", 3]]);
const options = { durability: { replicas: 1, timeoutMs: 100 }, pagesMax: 50, retryDelaysMs: [10], pause: async () => {}, now: () => NOW };

describe("redisViewStore", () => {
  it("sends one script per batch with the deadline on Redis's clock, early by WAIT's time", async () => {
    const { client, sent } = fakeRedis([[0, "13"]]);
    expect(await redisViewStore(() => client, options).add(batch, "pi1", NOW + 2000)).toEqual(new Map([["home", 13]]));
    expect(sent).toEqual([[String(NOW + 2000 - 100 + REDIS_AHEAD_MS), "50", "pi1", "3", "home", "3"]]);
  });

  it("names the script by SHA, and sends it whole once to a primary that lacks it (NOSCRIPT)", async () => {
    const { client, commands } = fakeRedis(["NOSCRIPT No matching script.", [0, "4"], [0, "7"]]);
    const store = redisViewStore(() => client, options);
    expect(await store.add(batch, "pi1", NOW + 2000)).toEqual(new Map([["home", 4]]));
    expect(await store.add(batch, "pi1", NOW + 2000)).toEqual(new Map([["home", 7]]));
    expect(commands).toEqual(["EVALSHA", "EVAL", "EVALSHA"]);
  });

  it("a batch Redis ran after its deadline is not counted: a 503 that says so", async () => {
    const { client } = fakeRedis([null]);
    const err = await redisViewStore(() => client, options)
      .add(batch, "pi1", NOW + 2000)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreUnavailableError);
    expect((err as StoreUnavailableError).counted).toBe(false);
    expect((err as Error).message).toMatch(/after its deadline/);
  });

  it("reports evicted pages", async () => {
    const evicted: number[] = [];
    const { client } = fakeRedis([[2, "1"]]);
    await redisViewStore(() => client, { ...options, onEvicted: (n) => evicted.push(n) }).add(batch, "pi1", NOW + 2000);
    expect(evicted).toEqual([2]);
  });

  it("sends a batch refused as READONLY again, and acknowledges the retry's counts", async () => {
    const { client, sent } = fakeRedis([READONLY, [0, "13"]]);
    expect(await redisViewStore(() => client, options).add(batch, "pi1", NOW + 2000)).toEqual(new Map([["home", 13]]));
    expect(sent).toHaveLength(2);
  });

  it("keeps sending a READONLY batch, the last pause repeating, while it can still run before its deadline; then not counted", async () => {
    const { client, sent } = fakeRedis(Array.from({ length: 100 }, () => READONLY));
    let now = NOW;
    const pauses: number[] = [];
    const pause = async (ms: number) => {
      pauses.push(ms);
      now += ms;
    };
    // Must run by NOW + 2000 - 100 (WAIT's time): pauses 10, 40, 40, … while one more still ends before that.
    const err = await redisViewStore(() => client, { ...options, retryDelaysMs: [10, 40], pause, now: () => now })
      .add(batch, "pi1", NOW + 2000)
      .catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/read-only replica/);
    expect((err as StoreUnavailableError).counted).toBe(false);
    expect(pauses.slice(0, 3)).toEqual([10, 40, 40]);
    expect(pauses.reduce((a, b) => a + b, 0)).toBe(1890);
    expect(sent).toHaveLength(pauses.length + 1);
  });

  it("never sends a batch again after another error", async () => {
    const { client, sent } = fakeRedis(["ERR something else", "ERR something else"]);
    await expect(redisViewStore(() => client, options).add(batch, "pi1", NOW + 2000)).rejects.toThrow(/ERR something else/);
    expect(sent).toHaveLength(1);
  });

  it("a batch no replica confirmed is a 503 that may have been counted (it ran on the primary)", async () => {
    const { client } = fakeRedis([[0, "12"]], 0);
    const err = await redisViewStore(() => client, options)
      .add(batch, "pi1", NOW + 2000)
      .catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/only 0 of 1 Redis replicas/);
    expect((err as StoreUnavailableError).counted).toBe("unknown");
  });

  it("waits again when Redis refused the WAIT but the script ran (node-redis re-sent it alone to the new primary)", async () => {
    const onReplica = new ErrorReply("ERR WAIT cannot be used with replica instances.");
    const { client } = fakeRedis([[0, "13"]], [onReplica, 1]);
    expect(await redisViewStore(() => client, options).add(batch, "pi1", NOW + 2000)).toEqual(new Map([["home", 13]]));
    const unconfirmed = fakeRedis([[0, "13"]], [onReplica, 0]);
    const err = await redisViewStore(() => unconfirmed.client, options)
      .add(batch, "pi1", NOW + 2000)
      .catch((e: unknown) => e);
    expect((err as StoreUnavailableError).counted).toBe("unknown");
  });

  it("a WAIT lost with its connection after the script ran is a 503 that may have been counted", async () => {
    const { client } = fakeRedis([[0, "13"]], [new Error("Socket closed unexpectedly"), 1]);
    const err = await redisViewStore(() => client, options)
      .add(batch, "pi1", NOW + 2000)
      .catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/WAIT failed after the batch was counted/);
    expect((err as StoreUnavailableError).counted).toBe("unknown");
  });

  it("tells a READONLY refusal from other errors", () => {
    expect(isReadOnlyRefusal(new Error(READONLY))).toBe(true);
    expect(isReadOnlyRefusal(new Error("LOADING Redis is loading"))).toBe(false);
    expect(isReadOnlyRefusal("READONLY")).toBe(false);
  });
});
