import { OperationError } from "@pifleet/fleet";
import { type Clock, systemClock } from "./clock.js";
import { type Secret, scrubTokens } from "./secret.js";

/**
 * The one GitLab transport: one fetch per try; 429, 5xx and network errors are
 * retried with capped exponential backoff, and a Retry-After header (seconds or
 * HTTP date, bounded) wins over the computed delay. Errors name the call and
 * carry GitLab's message, never the token.
 */

export class GitlabHttpError extends OperationError {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    /** GitLab's error text, already scrubbed of tokens. */
    readonly description: string,
    readonly retryAfterMs?: number,
    hint?: string,
  ) {
    super(`GitLab ${method} ${path} answered ${status}${description ? `: ${description}` : ""}`, hint);
    this.name = "GitlabHttpError";
  }
}

export class GitlabNetworkError extends OperationError {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly reason: string,
    /** False only when no connection was made (refused, no route, name not found): GitLab never saw the request. */
    readonly maybeSent = true,
  ) {
    super(
      `GitLab ${method} ${path} failed: ${reason}`,
      "Check the GitLab URL and that this machine reaches it; run again later if GitLab is down.",
    );
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

/** 429 (rate limited), 5xx and network errors can pass by waiting; other answers will not change. */
export function isRetryable(err: unknown): boolean {
  if (err instanceof GitlabNetworkError) return true;
  return err instanceof GitlabHttpError && (err.status === 429 || err.status >= 500);
}

/**
 * Whether a failed request may have been acted on by GitLab: a timeout or a broken connection after
 * sending, or a 5xx (GitLab may have committed before failing). A 429 comes from the rate limiter
 * before any work, other 4xx are refusals, and a connection never made sent nothing.
 */
export function mayHaveReachedGitlab(err: unknown): boolean {
  if (err instanceof GitlabNetworkError) return err.maybeSent;
  return err instanceof GitlabHttpError && err.status >= 500;
}

/** For a request that is not idempotent (POST creating something): retried only when GitLab surely did not act on it. */
export function isRetryableOnce(err: unknown): boolean {
  return isRetryable(err) && !mayHaveReachedGitlab(err);
}

/**
 * Retry-After in milliseconds: delay-seconds or an HTTP date; a negative number or a past date → 0
 * (retryDelay then applies its minimum). Absent or unreadable → undefined.
 */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  const trimmed = value?.trim();
  if (!trimmed) return undefined;
  if (/^-?\d+(\.\d+)?$/.test(trimmed)) {
    const ms = Math.round(Number(trimmed) * 1000);
    return Number.isFinite(ms) ? Math.max(0, ms) : undefined;
  }
  // Only something shaped like an HTTP date: Date.parse also accepts "-5", "1 2" and other non-dates.
  if (!/^[A-Za-z]{3},? /.test(trimmed)) return undefined;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * Delay before retry number `attempt` (0-based): Retry-After if given (bounded), else capped exponential
 * backoff with jitter. A Retry-After of 0 or a past date never means "now": it waits at least baseDelayMs
 * and the backoff's fixed half, so a server answering "0" each time is not hammered back-to-back.
 */
export function retryDelay(err: unknown, attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  if (err instanceof GitlabHttpError && err.retryAfterMs !== undefined) {
    const floor = Math.max(policy.baseDelayMs, Math.round(ceiling / 2));
    return Math.max(floor, Math.min(err.retryAfterMs, policy.maxRetryAfterMs));
  }
  // Half fixed, half random: spreads retries of parallel callers without ever waiting ~0.
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export interface RetryHooks {
  clock?: Clock;
  onRetry?: (err: Error, attempt: number, delayMs: number) => void;
  random?: () => number;
}

/** Runs fn, again after a wait while it fails retryably, at most policy.attempts times; then throws the last error. */
export async function withRetry<T>(
  fn: () => Promise<T>,
  policy: RetryPolicy = DEFAULT_RETRY,
  hooks: RetryHooks = {},
  retryable: (err: unknown) => boolean = isRetryable,
): Promise<T> {
  const clock = hooks.clock ?? systemClock;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!retryable(err) || attempt + 1 >= policy.attempts) throw err;
      const delay = retryDelay(err, attempt, policy, hooks.random);
      hooks.onRetry?.(err as Error, attempt + 1, delay);
      await clock.sleep(delay);
    }
  }
}

export interface GitlabAuth {
  header: "PRIVATE-TOKEN" | "JOB-TOKEN";
  token: Secret;
}

export interface GitlabResponse<T> {
  status: number;
  headers: Headers;
  body: T;
}

export type GitlabQuery = Record<string, string | number | boolean | string[] | undefined>;

export interface GitlabRequestOptions {
  /** Arrays become repeated `key[]=value`, as GitLab's API expects. */
  query?: GitlabQuery;
  /** Sent as JSON. */
  body?: unknown;
  headers?: Record<string, string>;
  /**
   * False for a call that must not run twice (POST /user/runners creates a runner each time): it is
   * retried only when GitLab surely did not act on it (isRetryableOnce); the caller looks up what
   * a failed attempt may have made before trying again.
   */
  idempotent?: boolean;
}

export interface GitlabTransport {
  /** …/api/v4, without a trailing slash. */
  apiUrl: string;
  /** One call (retried per policy); path is relative to apiUrl, e.g. "/projects/1/merge_requests/2/notes". */
  request<T = unknown>(method: string, path: string, options?: GitlabRequestOptions): Promise<GitlabResponse<T>>;
  /** Every item of a list endpoint, following x-next-page; more than MAX_PAGES pages is an error, never a silent cut. */
  paginate<T>(path: string, query?: Record<string, string | number | boolean | undefined>): Promise<T[]>;
}

export interface GitlabTransportOptions {
  /** The instance URL (https://gitlab.example.com); /api/v4 is added when missing. */
  url: string;
  auth: GitlabAuth;
  retry?: RetryPolicy;
  clock?: Clock;
  onRetry?: (err: Error, attempt: number, delayMs: number) => void;
  /** The backoff's jitter source; tests pass () => 1 for exact waits. */
  random?: () => number;
  /** Per try. */
  timeoutMs?: number;
}

/** Bound for paginate: 100 pages of 100 items. */
const MAX_PAGES = 100;

const DEFAULT_TIMEOUT_MS = 30_000;

/** The API base for an instance URL: trailing slashes dropped, /api/v4 appended unless present. */
export function gitlabApiUrl(url: string): string {
  const base = url.replace(/\/+$/, "");
  return base.endsWith("/api/v4") ? base : `${base}/api/v4`;
}

function searchParams(query: GitlabQuery = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) params.append(`${key}[]`, item);
    else params.append(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

/** GitLab's message from an error body ({message} or {error}, else the text), scrubbed and kept short. */
function errorDescription(text: string, token: Secret): string {
  let out = text;
  try {
    const parsed = JSON.parse(text) as Record<string, unknown>;
    const m = parsed.message ?? parsed.error;
    if (m !== undefined) out = typeof m === "string" ? m : JSON.stringify(m);
  } catch {
    // Not JSON (an HTML error page from a proxy, say): keep the text.
  }
  return scrubTokens(out.trim(), [token]).slice(0, 300);
}

/** Codes of a connection that was never made: the request never left this machine. */
const NOT_CONNECTED = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "UND_ERR_CONNECT_TIMEOUT"]);

function neverConnected(err: unknown): boolean {
  return NOT_CONNECTED.has((err as { cause?: { code?: string } }).cause?.code ?? "");
}

function networkReason(err: unknown, timeoutMs: number): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e.name === "TimeoutError") return `no answer within ${Math.round(timeoutMs / 1000)} s`;
  return e.cause?.code ?? e.cause?.message ?? e.message ?? "network error";
}

export function gitlabTransport(options: GitlabTransportOptions): GitlabTransport {
  const apiUrl = gitlabApiUrl(options.url);
  const policy = options.retry ?? DEFAULT_RETRY;
  const clock = options.clock ?? systemClock;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const token = options.auth.token;
  const hooks: RetryHooks = {
    clock,
    ...(options.onRetry ? { onRetry: options.onRetry } : {}),
    ...(options.random ? { random: options.random } : {}),
  };

  async function once<T>(method: string, path: string, request: GitlabRequestOptions): Promise<GitlabResponse<T>> {
    const relative = `${path.startsWith("/") ? path : `/${path}`}${searchParams(request.query)}`;
    // Errors name the call with its query (which page, which filter); the token is only ever in a header.
    const shownPath = scrubTokens(relative, [token]);
    let res: Response;
    try {
      res = await fetch(`${apiUrl}${relative}`, {
        method,
        headers: {
          accept: "application/json",
          ...(request.body === undefined ? {} : { "content-type": "application/json" }),
          ...request.headers,
          [options.auth.header]: token.reveal(),
        },
        ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw new GitlabNetworkError(method, shownPath, scrubTokens(networkReason(err, timeoutMs), [token]), !neverConnected(err));
    }
    let text: string;
    try {
      text = await res.text();
    } catch (err) {
      throw new GitlabNetworkError(method, shownPath, scrubTokens(networkReason(err, timeoutMs), [token]));
    }
    if (!res.ok) {
      throw new GitlabHttpError(
        method,
        shownPath,
        res.status,
        errorDescription(text, token),
        parseRetryAfter(res.headers.get("retry-after"), clock.now()),
      );
    }
    if (res.status === 204 || text === "") return { status: res.status, headers: res.headers, body: null as T };
    if (!(res.headers.get("content-type") ?? "").includes("json")) return { status: res.status, headers: res.headers, body: text as T };
    try {
      return { status: res.status, headers: res.headers, body: JSON.parse(text) as T };
    } catch {
      throw new GitlabHttpError(
        method,
        shownPath,
        res.status,
        `the answer is not valid JSON: ${errorDescription(text.slice(0, 100), token)}`,
      );
    }
  }

  const transport: GitlabTransport = {
    apiUrl,
    request: (method, path, request = {}) =>
      withRetry(() => once(method, path, request), policy, hooks, request.idempotent === false ? isRetryableOnce : isRetryable),
    async paginate<T>(path: string, query: Record<string, string | number | boolean | undefined> = {}): Promise<T[]> {
      const items: T[] = [];
      let page = "1";
      for (let pages = 0; page !== ""; pages++) {
        if (pages === MAX_PAGES) {
          throw new OperationError(
            `GitLab GET ${path} has more than ${MAX_PAGES} pages`,
            "Narrow the query; pifleet does not read lists this long.",
          );
        }
        // per_page and page first, as GitLab's own next-page links have them.
        const pageQuery: Record<string, string | number | boolean | undefined> = { per_page: 100, page, ...query };
        pageQuery.page = page;
        const res = await transport.request<T[]>("GET", path, { query: pageQuery });
        if (!Array.isArray(res.body)) throw new GitlabHttpError("GET", path, res.status, "expected a JSON list");
        items.push(...res.body);
        page = res.headers.get("x-next-page")?.trim() ?? "";
      }
      return items;
    },
  };
  return transport;
}
