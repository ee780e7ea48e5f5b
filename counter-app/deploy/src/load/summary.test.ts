import { describe, expect, it } from "vitest";
import { type LoadSample, longestGap, renderLoadSummary, summarizeLoad } from "./summary.js";

const ok = (endMs: number, views: number): LoadSample => ({ startMs: endMs - 5, endMs, ok: true, views });
const failed = (endMs: number, reason: { status?: number; error?: string }): LoadSample => ({
  startMs: endMs - 5,
  endMs,
  ok: false,
  ...reason,
});

describe("summarizeLoad", () => {
  it("finds nothing lost when the counter grew by every acknowledged increment", () => {
    const s = summarizeLoad([ok(10, 101), ok(20, 102), ok(30, 103)], { before: 100, after: 103 }, 40);
    expect(s).toMatchObject({ requests: 3, ok: 3, failed: 0, counted: 3, lost: 0, countedUnacknowledged: 0, repeatedCounts: 0 });
  });

  it("counts acknowledged increments the final counter misses as lost, and the counts handed out twice", () => {
    // A failover to a replica that missed 101 and 102: the counter went back and counted them again.
    const samples = [ok(10, 101), ok(20, 102), failed(30, { error: "ECONNRESET" }), ok(40, 101), ok(50, 102)];
    const s = summarizeLoad(samples, { before: 100, after: 102 }, 60);
    expect(s.lost).toBe(2);
    expect(s.repeatedCounts).toBe(4);
    expect(s.failures).toEqual([["ECONNRESET", 1]]);
  });

  it("reports failed requests that still counted apart, never as lost", () => {
    const s = summarizeLoad([ok(10, 11), failed(20, { error: "timeout" }), ok(30, 13)], { before: 10, after: 13 }, 40);
    expect(s).toMatchObject({ ok: 2, failed: 1, counted: 3, lost: 0, countedUnacknowledged: 1 });
  });

  it("groups failures by status or error, most frequent first", () => {
    const samples = [failed(1, { status: 503 }), failed(2, { error: "ECONNREFUSED" }), failed(3, { status: 503 }), failed(4, {})];
    expect(summarizeLoad(samples, { before: 0, after: 0 }, 5).failures).toEqual([
      ["503", 2],
      ["ECONNREFUSED", 1],
      ["error", 1],
    ]);
  });

  it("renders every figure on one line", () => {
    const line = renderLoadSummary(summarizeLoad([ok(1000, 1), failed(1500, { status: 502 })], { before: 0, after: 1 }, 4000));
    expect(line).toBe(
      "2 requests in 4.0 s: 1 ok, 1 failed (1× 502); counter 0 → 1 (1 counted): 0 lost, 0 counted without an answer, 0 repeated counts; longest time without a success 3.0 s (1.0–4.0 s)",
    );
  });
});

describe("longestGap", () => {
  it("is the whole run when nothing succeeded", () => {
    expect(longestGap([], 5000)).toEqual({ fromMs: 0, toMs: 5000, ms: 5000 });
  });

  it("finds the outage between successes, whatever order they arrived in", () => {
    expect(longestGap([900, 100, 200, 4200, 4300], 4400)).toEqual({ fromMs: 900, toMs: 4200, ms: 3300 });
  });

  it("counts the time before the first success and after the last", () => {
    expect(longestGap([3000, 3100], 3200).ms).toBe(3000);
    expect(longestGap([100, 200], 9000)).toEqual({ fromMs: 200, toMs: 9000, ms: 8800 });
  });
});
