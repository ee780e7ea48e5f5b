import { describe, expect, it } from "vitest";
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

/** A Redis that answers each HINCRBY from `replies` in order (a string is an error reply) and WAIT with `replicas`. */
function fakeRedis(replies: (number | string)[], replicas = 1) {
  const sent: string[] = [];
  const client = {
    hIncrBy: async (key: string, field: string, by: number) => {
      sent.push(`${key} ${field} ${by}`);
      const reply = replies.shift();
      if (typeof reply === "string") throw new Error(reply);
      return reply ?? 0;
    },
    wait: async () => replicas,
  } as unknown as Redis;
  return { client, sent };
}

const batch = new Map([["home", 3]]);
const noPause = async () => {};

describe("redisViewStore", () => {
  it("sends a batch every write of which was refused as READONLY again, and acknowledges the retry's counts", async () => {
    const { client, sent } = fakeRedis([READONLY, READONLY, 13, 103]);
    const store = redisViewStore(() => client, { replicas: 1, timeoutMs: 100 }, [10], noPause);
    expect(await store.add(batch, "pi1")).toEqual(new Map([["home", 13]]));
    expect(sent).toEqual(["pifleet:views home 3", "pifleet:nodes pi1 3", "pifleet:views home 3", "pifleet:nodes pi1 3"]);
  });

  it("gives up with the refusal once its retries are spent", async () => {
    const { client, sent } = fakeRedis([READONLY, READONLY, READONLY, READONLY]);
    const store = redisViewStore(() => client, { replicas: 1, timeoutMs: 100 }, [10], noPause);
    await expect(store.add(batch, "pi1")).rejects.toThrow(/read-only replica/);
    expect(sent).toHaveLength(4);
  });

  it("never sends a batch again when part of it ran: that could count a view twice", async () => {
    const { client, sent } = fakeRedis([12, READONLY]);
    const store = redisViewStore(() => client, { replicas: 1, timeoutMs: 100 }, [10, 10], noPause);
    await expect(store.add(batch, "pi1")).rejects.toThrow(/^READONLY/);
    expect(sent).toHaveLength(2);
  });

  it("never sends a batch again after another error", async () => {
    const { client, sent } = fakeRedis(["ERR something else", "ERR something else"]);
    const store = redisViewStore(() => client, { replicas: 1, timeoutMs: 100 }, [10], noPause);
    await expect(store.add(batch, "pi1")).rejects.toThrow(/ERR something else/);
    expect(sent).toHaveLength(2);
  });

  it("refuses to acknowledge a batch no replica confirmed", async () => {
    const { client } = fakeRedis([12, 102], 0);
    await expect(redisViewStore(() => client, { replicas: 1, timeoutMs: 100 }, [], noPause).add(batch, "pi1")).rejects.toThrow(
      /only 0 of 1 Redis replicas/,
    );
  });

  it("tells a READONLY refusal from other errors", () => {
    expect(isReadOnlyRefusal(new Error(READONLY))).toBe(true);
    expect(isReadOnlyRefusal(new Error("LOADING Redis is loading"))).toBe(false);
    expect(isReadOnlyRefusal("READONLY")).toBe(false);
  });
});
