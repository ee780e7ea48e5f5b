import { describe, expect, it } from "vitest";
import { DEFAULT_RETRY, isRetryable, retryDelayMs } from "./retry.js";

describe("retrying GitLab requests", () => {
  it("retries 429 and 5xx only", () => {
    expect([429, 500, 502, 503].every(isRetryable)).toBe(true);
    expect([400, 401, 403, 404, 409, 422].some(isRetryable)).toBe(false);
  });

  it("honours Retry-After in seconds and as an HTTP date", () => {
    expect(retryDelayMs(1, "2", DEFAULT_RETRY)).toBe(2000);
    const now = Date.parse("2026-11-24T04:00:00Z");
    expect(retryDelayMs(1, "Tue, 24 Nov 2026 04:00:05 GMT", DEFAULT_RETRY, now)).toBe(5000);
  });

  it("backs off exponentially without Retry-After, and caps every wait", () => {
    expect([1, 2, 3].map((a) => retryDelayMs(a, null, DEFAULT_RETRY))).toEqual([500, 1000, 2000]);
    expect(retryDelayMs(1, "3600", DEFAULT_RETRY)).toBe(DEFAULT_RETRY.maxDelayMs);
    expect(retryDelayMs(20, null, DEFAULT_RETRY)).toBe(DEFAULT_RETRY.maxDelayMs);
  });
});
