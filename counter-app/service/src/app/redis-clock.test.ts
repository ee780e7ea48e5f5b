import { describe, expect, it } from "vitest";
import { betterSample, redisDeadline, sampleFrom } from "./redis-clock.js";

describe("Redis clock offset", () => {
  it("takes the offset at the middle of the round trip, and half the round trip as its error", () => {
    // sent at 1000, answered at 1010; Redis said 5005.5 ms
    expect(sampleFrom(1000, ["5", "5500"], 1010)).toEqual({ offsetMs: 4000.5, errorMs: 5, takenAt: 1010 });
  });

  it("puts the deadline on Redis's clock, early by the error", () => {
    expect(redisDeadline(2000, { offsetMs: 4000, errorMs: 5, takenAt: 0 })).toBe(5995);
  });

  it("keeps an older sample over one from a slow round trip (a stalled Redis), but takes any first one", () => {
    const good = { offsetMs: 10, errorMs: 1, takenAt: 0 };
    const stalled = { offsetMs: -2000, errorMs: 2500, takenAt: 9000 };
    expect(betterSample(good, stalled)).toBe(good);
    expect(betterSample(undefined, stalled)).toBe(stalled);
    expect(betterSample(good, { ...good, takenAt: 5 })).toEqual({ ...good, takenAt: 5 });
  });

  it("refuses a TIME reply it cannot read", () => {
    expect(() => sampleFrom(0, "nope", 1)).toThrow(/TIME/);
  });
});
