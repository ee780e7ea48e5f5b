import { describe, expect, it } from "vitest";
import { WriteHealth } from "./write-health.js";

describe("WriteHealth", () => {
  it("logs once when writes start failing and once when they work again, not per batch", () => {
    const lines: Array<[string, Record<string, unknown>]> = [];
    const log = {
      warn: (o: Record<string, unknown>) => lines.push(["warn", o]),
      info: (o: Record<string, unknown>) => lines.push(["info", o]),
    };
    let t = 0;
    const h = new WriteHealth(log as never, () => t);
    h.record(undefined);
    for (let i = 0; i < 50; i++) h.record(new Error("OOM command not allowed when used memory > 'maxmemory'."));
    expect(h.failure?.message).toMatch(/^OOM/);
    t = 1500;
    h.record(undefined);
    expect(h.failure).toBeUndefined();
    h.record(undefined);
    expect(lines).toEqual([
      ["warn", { event: "redis.writes.failing", reason: "OOM command not allowed when used memory > 'maxmemory'." }],
      ["info", { event: "redis.writes.ok", failedMs: 1500, failedBatches: 50 }],
    ]);
  });
});
