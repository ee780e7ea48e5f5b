import { describe, expect, it } from "vitest";
import { manualClock, sleep, systemClock } from "./clock.js";

describe("manualClock", () => {
  it("records sleeps and advances at once", async () => {
    const clock = manualClock(1000);
    await clock.sleep(250);
    await clock.sleep(500);
    clock.advance(5);
    expect(clock.sleeps).toEqual([250, 500]);
    expect(clock.now()).toBe(1755);
  });

  it("rejects a sleep whose signal is already aborted", async () => {
    await expect(manualClock().sleep(10, AbortSignal.abort())).rejects.toThrow();
  });
});

describe("sleep", () => {
  it("waits about as long as asked", async () => {
    const start = systemClock.now();
    await sleep(30);
    expect(systemClock.now() - start).toBeGreaterThanOrEqual(25);
  });

  it("stops early when its signal aborts", async () => {
    const controller = new AbortController();
    const pending = sleep(60_000, controller.signal);
    controller.abort();
    await expect(pending).rejects.toThrow();
  });
});
