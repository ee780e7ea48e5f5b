/**
 * Retries for GitLab calls: 429, 5xx and network errors are retried with
 * exponential backoff, and a Retry-After header (seconds or HTTP date) wins
 * over the computed delay. gitbeaker's own loop retries only 429/502, ignores
 * Retry-After and waits microseconds, so pifleet's transport does not use it.
 */

export class GitlabHttpError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    /** GitLab's error text (already scrubbed of tokens). */
    readonly description: string,
    readonly retryAfterMs?: number,
  ) {
    super(`GitLab ${method} ${path} answered ${status}${description ? `: ${description}` : ""}`);
    this.name = "GitlabHttpError";
  }
}

export class GitlabNetworkError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly reason: string,
  ) {
    super(`GitLab ${method} ${path} failed: ${reason}`);
    this.name = "GitlabNetworkError";
  }
}

export interface RetryPolicy {
  /** Tries in total, the first included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** A Retry-After longer than this is cut to it, so one answer cannot park a run for hours. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 8, baseDelayMs: 250, maxDelayMs: 30_000, maxRetryAfterMs: 120_000 };

export function isRetryable(err: unknown): boolean {
  if (err instanceof GitlabNetworkError) return true;
  return err instanceof GitlabHttpError && (err.status === 429 || err.status >= 500);
}

/** Retry-After as milliseconds; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Delay before retry number `attempt` (0-based): Retry-After if given, else capped exponential backoff with jitter. */
export function retryDelay(err: unknown, attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  if (err instanceof GitlabHttpError && err.retryAfterMs !== undefined) return Math.min(err.retryAfterMs, policy.maxRetryAfterMs);
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  // Half fixed, half random: spreads retries of parallel callers without ever waiting ~0.
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export interface RetryHooks {
  sleep?: (ms: number) => Promise<void>;
  onRetry?: (err: Error, attempt: number, delayMs: number) => void;
  random?: () => number;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function withRetry<T>(fn: () => Promise<T>, policy: RetryPolicy = DEFAULT_RETRY, hooks: RetryHooks = {}): Promise<T> {
  const sleep = hooks.sleep ?? realSleep;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!isRetryable(err) || attempt + 1 >= policy.attempts) throw err;
      const delay = retryDelay(err, attempt, policy, hooks.random);
      hooks.onRetry?.(err as Error, attempt + 1, delay);
      await sleep(delay);
    }
  }
}
