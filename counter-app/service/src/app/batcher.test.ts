import { describe, expect, it } from "vitest";
import { StoreUnavailableError, ViewBatcher, type ViewStore } from "./batcher.js";

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

describe("ViewBatcher", () => {
  it("sends the views of one event-loop turn as one batch and gives each view a distinct count", async () => {
    const { store, batches } = memoryStore();
    const b = new ViewBatcher(store, "pi1", 1000);
    const results = await Promise.all([b.count("home"), b.count("home"), b.count("blog"), b.count("home")]);
    expect(batches).toEqual([{ home: 3, blog: 1 }]);
    expect(results).toEqual([1, 2, 1, 3]);
  });

  it("continues the numbering across batches", async () => {
    const { store, batches } = memoryStore();
    const b = new ViewBatcher(store, "pi1", 1000);
    await Promise.all([b.count("home"), b.count("home")]);
    const later = await Promise.all([b.count("home"), b.count("home")]);
    expect(later).toEqual([3, 4]);
    expect(batches).toHaveLength(2);
  });

  it("rejects every view of a failed batch as unavailable and reports the flush", async () => {
    const flushes: Array<[number, boolean]> = [];
    const failing: ViewStore = { add: async () => Promise.reject(new Error("connection refused")) };
    const b = new ViewBatcher(failing, "pi1", 1000, (size, _s, ok) => flushes.push([size, ok]));
    const results = await Promise.allSettled([b.count("home"), b.count("blog")]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    expect((results[0] as PromiseRejectedResult).reason).toBeInstanceOf(StoreUnavailableError);
    expect(flushes).toEqual([[2, false]]);
  });

  it("times out a batch the store never answers", async () => {
    const hanging: ViewStore = { add: () => new Promise(() => {}) };
    const b = new ViewBatcher(hanging, "pi1", 30);
    await expect(b.count("home")).rejects.toThrow("no answer from Redis within 30 ms");
  });

  it("idle() waits for batches still in flight", async () => {
    let release: () => void = () => {};
    const slow: ViewStore = {
      add: (batch) =>
        new Promise((resolve) => {
          release = () => resolve(new Map([...batch].map(([p, n]) => [p, n])));
        }),
    };
    const b = new ViewBatcher(slow, "pi1", 1000);
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
