import { describe, expect, it } from "vitest";
import { DEFAULT_RETRY, GitlabHttpError, GitlabNetworkError, isRetryable, parseRetryAfter, retryDelay, withRetry } from "./retry.js";

const http = (status: number, retryAfterMs?: number) => new GitlabHttpError("GET", "/api/v4/runners", status, "x", retryAfterMs);

describe("parseRetryAfter", () => {
  it("reads seconds and HTTP dates, and ignores garbage", () => {
    expect(parseRetryAfter("7")).toBe(7000);
    expect(parseRetryAfter("0.5")).toBe(500);
    expect(parseRetryAfter("Tue, 24 Nov 2026 03:00:10 GMT", Date.parse("2026-11-24T03:00:00Z"))).toBe(10_000);
    expect(parseRetryAfter("Tue, 24 Nov 2026 02:00:00 GMT", Date.parse("2026-11-24T03:00:00Z"))).toBe(0);
    expect(parseRetryAfter("soon")).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });
});

describe("which errors are retried", () => {
  it("retries 429, 5xx and network errors, not other 4xx", () => {
    expect([429, 500, 502, 503, 504].map((s) => isRetryable(http(s)))).toEqual([true, true, true, true, true]);
    expect([400, 401, 403, 404, 409].map((s) => isRetryable(http(s)))).toEqual([false, false, false, false, false]);
    expect(isRetryable(new GitlabNetworkError("GET", "/x", "ECONNRESET"))).toBe(true);
    expect(isRetryable(new Error("bug"))).toBe(false);
  });
});

describe("retryDelay", () => {
  it("uses Retry-After when given, capped so one answer cannot park a run for hours", () => {
    expect(retryDelay(http(429, 4000), 0, DEFAULT_RETRY)).toBe(4000);
    expect(retryDelay(http(429, 3_600_000), 0, DEFAULT_RETRY)).toBe(DEFAULT_RETRY.maxRetryAfterMs);
  });

  it("otherwise backs off exponentially between half and all of a capped ceiling", () => {
    const low = (n: number) => retryDelay(http(503), n, DEFAULT_RETRY, () => 0);
    const high = (n: number) => retryDelay(http(503), n, DEFAULT_RETRY, () => 1);
    expect([0, 1, 2, 3].map(low)).toEqual([125, 250, 500, 1000]);
    expect([0, 1, 2, 3].map(high)).toEqual([250, 500, 1000, 2000]);
    expect(high(20)).toBe(DEFAULT_RETRY.maxDelayMs);
  });
});

describe("withRetry", () => {
  it("returns the first success and reports each retry", async () => {
    const answers = [http(429, 2000), new GitlabNetworkError("GET", "/x", "ECONNRESET"), "ok"];
    const slept: number[] = [];
    const retried: number[] = [];
    const result = await withRetry(
      async () => {
        const next = answers.shift();
        if (next instanceof Error) throw next;
        return next;
      },
      DEFAULT_RETRY,
      { sleep: async (ms) => void slept.push(ms), onRetry: (_e, attempt) => retried.push(attempt), random: () => 0 },
    );
    expect(result).toBe("ok");
    expect(slept).toEqual([2000, 250]);
    expect(retried).toEqual([1, 2]);
  });

  it("does not retry what cannot succeed, and stops after the last attempt", async () => {
    let calls = 0;
    await expect(
      withRetry(async () => {
        calls++;
        throw http(404);
      }),
    ).rejects.toThrow("answered 404");
    expect(calls).toBe(1);
    calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw http(503);
        },
        { ...DEFAULT_RETRY, attempts: 3 },
        { sleep: async () => {} },
      ),
    ).rejects.toThrow("answered 503");
    expect(calls).toBe(3);
  });
});
