/** When to try a GitLab request again, and how long to wait first. */
export interface RetryPolicy {
  /** Attempts in all, the first included. */
  attempts: number;
  /** First backoff without Retry-After; doubles per attempt. */
  baseDelayMs: number;
  /** Upper bound for any single wait, Retry-After included. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 6, baseDelayMs: 500, maxDelayMs: 30_000 };

/** 429 (rate limited) and 5xx are worth retrying; other statuses will not change by waiting. */
export function isRetryable(status: number): boolean {
  return status === 429 || status >= 500;
}

/**
 * Milliseconds to wait before attempt `attempt + 1`: GitLab's Retry-After
 * (seconds or an HTTP date) when given, else exponential backoff. Capped.
 */
export function retryDelayMs(attempt: number, retryAfter: string | null, policy: RetryPolicy, now: number = Date.now()): number {
  let ms: number | undefined;
  if (retryAfter !== null && retryAfter.trim() !== "") {
    const seconds = Number(retryAfter);
    if (Number.isFinite(seconds)) ms = seconds * 1000;
    else {
      const at = Date.parse(retryAfter);
      if (!Number.isNaN(at)) ms = at - now;
    }
  }
  if (ms === undefined) ms = policy.baseDelayMs * 2 ** (attempt - 1);
  return Math.min(Math.max(0, ms), policy.maxDelayMs);
}
