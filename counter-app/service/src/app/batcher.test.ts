import { describe, expect, it } from "vitest";
import { REPLY_MARGIN_MS, StoreUnavailableError, ViewBatcher, type ViewStore } from "./batcher.js";

/** An in-memory store that records each batch it receives. */
function memoryStore() {
  const counts = new Map<string, number>();
  const batches: Array<Record<string, number>> = [];
  const store: ViewStore = {
    async add(batch) {
      batches.push(Object.fromEntries(batch));
      for (const [page, n] of batch) counts.set(page, (counts.get(page) ?? 0) + n);
      return new Map([...batch.keys()].map((page) => [page, counts.get(page) ?? 0]));
    },
  };
  return { store, counts, batches };
}

/** A store that answers its latest batch (each page: its views) only when released. */
function heldStore() {
  const sent: Array<Record<string, number>> = [];
  let answer: () => void = () => {};
  const store: ViewStore = {
    add: (batch) => {
      sent.push(Object.fromEntries(batch));
      return new Promise((resolve) => {
        answer = () => resolve(new Map(batch));
      });
    },
  };
  return { store, sent, release: () => answer() };
}

describe("ViewBatcher", () => {
  it("sends the views of one event-loop turn as one batch and gives each view a distinct count", async () => {
    const { store, batches } = memoryStore();
    const b = new ViewBatcher(store, "pi1", { timeoutMs: 1000, queueLimit: 100 });
    const results = await Promise.all([b.count("home"), b.count("home"), b.count("blog"), b.count("home")]);
    expect(batches).toEqual([{ home: 3, blog: 1 }]);
    expect(results).toEqual([1, 2, 1, 3]);
  });

  it("continues the numbering across batches", async () => {
    const { store, batches } = memoryStore();
    const b = new ViewBatcher(store, "pi1", { timeoutMs: 1000, queueLimit: 100 });
    await Promise.all([b.count("home"), b.count("home")]);
    const later = await Promise.all([b.count("home"), b.count("home")]);
    expect(later).toEqual([3, 4]);
    expect(batches).toHaveLength(2);
  });

  it("rejects every view of a failed batch as unavailable and reports the flush", async () => {
    const flushes: Array<[number, boolean]> = [];
    const failing: ViewStore = { add: async () => Promise.reject(new Error("connection refused")) };
    const b = new ViewBatcher(failing, "pi1", {
      timeoutMs: 1000,
      queueLimit: 100,
      onFlush: (size, _s, failure) => flushes.push([size, failure === undefined]),
    });
    const results = await Promise.allSettled([b.count("home"), b.count("blog")]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    expect((results[0] as PromiseRejectedResult).reason).toBeInstanceOf(StoreUnavailableError);
    expect(flushes).toEqual([[2, false]]);
  });

  it("answers a batch the store never answers 503 'not counted', once the store's deadline and the margin have passed", async () => {
    const giveUps: number[] = [];
    const hanging: ViewStore = {
      add: (_batch, _node, giveUpAt) => {
        giveUps.push(giveUpAt - Date.now());
        return new Promise(() => {});
      },
    };
    const b = new ViewBatcher(hanging, "pi1", { timeoutMs: 30, queueLimit: 100 });
    const started = Date.now();
    const err = await b.count("home").catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/^no answer from Redis within 30 ms/);
    expect((err as StoreUnavailableError).counted).toBe(false);
    expect(Date.now() - started).toBeGreaterThanOrEqual(30 + REPLY_MARGIN_MS - 5);
    expect(giveUps[0]).toBeGreaterThan(20);
    expect(giveUps[0]).toBeLessThanOrEqual(30);
  });

  it("reports a batch the store applied after its views were answered 503", async () => {
    const { store: late, release } = heldStore();
    const lateViews: number[] = [];
    const b = new ViewBatcher(late, "pi1", { timeoutMs: 10, queueLimit: 100, onLateApplied: (n) => lateViews.push(n) });
    await expect(Promise.all([b.count("home"), b.count("home")])).rejects.toThrow(/no answer/);
    release();
    await b.idle();
    await new Promise((r) => setImmediate(r));
    expect(lateViews).toEqual([2]);
  });

  it("refuses views beyond the queue limit at once, without sending them, and takes them again once Redis answered", async () => {
    const { store: slow, release, sent } = heldStore();
    const b = new ViewBatcher(slow, "pi1", { timeoutMs: 1000, queueLimit: 3 });
    const first = [b.count("a"), b.count("a"), b.count("b")];
    const refused = await b.count("c").catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(StoreUnavailableError);
    expect((refused as StoreUnavailableError).counted).toBe(false);
    await new Promise((r) => setImmediate(r));
    expect(await b.count("d").catch((e: unknown) => (e as Error).message)).toMatch(/REDIS_QUEUE_LIMIT/);
    release();
    expect(await Promise.all(first)).toEqual([1, 2, 1]);
    const later = b.count("c");
    await new Promise((r) => setImmediate(r));
    release();
    expect(await later).toBe(1);
    expect(sent).toEqual([{ a: 2, b: 1 }, { c: 1 }]);
  });

  it("idle() waits for batches still in flight", async () => {
    const { store: slow, release } = heldStore();
    const b = new ViewBatcher(slow, "pi1", { timeoutMs: 1000, queueLimit: 100 });
    let answered = false;
    void b.count("home").then(() => {
      answered = true;
    });
    const idle = b.idle();
    await new Promise((r) => setImmediate(r));
    expect(answered).toBe(false);
    release();
    await idle;
    expect(answered).toBe(true);
  });
});
