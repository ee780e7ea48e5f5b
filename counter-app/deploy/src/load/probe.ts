import { InputError } from "@pifleet/fleet";
import { type LoadSample, type LoadSummary, summarizeLoad } from "./summary.js";
import { loadTarget } from "./target.js";

export interface LoadOptions {
  /** The counter's base URL, e.g. http://198.19.1.250 (the VIP). */
  url: string;
  /** The page counted; use one only this run increments, so the counter's delta is this run's. */
  page: string;
  /** Concurrent workers, each one request at a time. */
  workers: number;
  /** Upper bound on the run's length; `stop()` ends it earlier. */
  maxSeconds: number;
  /** Upper bound on requests over all workers. */
  maxRequests?: number;
  /** A request without an answer after this is failed as "timeout" (default PROBE_TIMEOUT_MS). */
  timeoutMs?: number;
  /** Each worker waits this long between its requests (0: back to back). */
  pauseMs?: number;
  /** How long to keep asking for the counter after the run (the service may still be recovering). */
  readAfterTimeoutMs?: number;
  /** Allow addresses outside loopback and the sim's 198.18.0.0/15 (real Pis only). */
  anyAddress?: boolean;
}

export interface LoadResult {
  summary: LoadSummary;
  samples: LoadSample[];
}

export interface LoadRun {
  /** Ends the run: workers finish their current request and start no new one. */
  stop(): void;
  /** Milliseconds since the run started: marks an event (a fault) on the samples' timeline. */
  elapsedMs(): number;
  done: Promise<LoadResult>;
}

/**
 * When a request counts as failed without an answer: above the app's slowest honest answer (the stack's
 * REDIS_TIMEOUT_MS 8 s + its 250 ms reply margin, then a 503) plus two SYN retransmissions (1 s, then 2 s more)
 * of a connection opened while the load balancer's address moves. A browser waits far longer; report the
 * slowest answer beside the failures.
 */
export const PROBE_TIMEOUT_MS = 12_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts a bounded load against GET /api/views/PAGE (the thin shell around
 * summarizeLoad): reads the page's count from /api/stats first (it must
 * answer), runs the workers until stopped or a bound is hit, then reads the
 * count again (retrying, the service may be recovering) and summarises.
 * Never retries a failed increment: without an idempotency key a retry after
 * a reset could count twice.
 */
export async function startLoad(options: LoadOptions): Promise<LoadRun> {
  const base = loadTarget(options.url, { anyAddress: options.anyAddress });
  if (!Number.isInteger(options.workers) || options.workers < 1 || options.workers > 64)
    throw new InputError(`workers must be 1–64, got ${options.workers}`, "Pass a small number of workers.");
  if (!(options.maxSeconds > 0 && options.maxSeconds <= 3600))
    throw new InputError(`maxSeconds must be in (0, 3600], got ${options.maxSeconds}`, "Bound the run.");
  const timeoutMs = options.timeoutMs ?? PROBE_TIMEOUT_MS;
  const viewsUrl = new URL(`/api/views/${encodeURIComponent(options.page)}`, base);
  const statsUrl = new URL("/api/stats", base);
  const before = await readCount(statsUrl, options.page, timeoutMs);

  let stopped = false;
  let issued = 0;
  const samples: LoadSample[] = [];
  const started = performance.now();
  const deadline = started + options.maxSeconds * 1000;
  const now = () => performance.now() - started;
  const more = () => !stopped && performance.now() < deadline && (options.maxRequests === undefined || issued < options.maxRequests);

  const worker = async () => {
    while (more()) {
      issued++;
      samples.push(await countOnce(viewsUrl, timeoutMs, now));
      if (options.pauseMs) await sleep(options.pauseMs);
    }
  };
  const done = (async () => {
    await Promise.all(Array.from({ length: options.workers }, worker));
    const durationMs = now();
    const after = await readCountAfter(statsUrl, options.page, timeoutMs, options.readAfterTimeoutMs ?? 60_000);
    return { summary: summarizeLoad(samples, { before, after }, durationMs), samples };
  })();
  return {
    stop: () => {
      stopped = true;
    },
    elapsedMs: now,
    done,
  };
}

/** Runs a load to its bounds and returns what it saw. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  return (await startLoad(options)).done;
}

async function countOnce(url: URL, timeoutMs: number, now: () => number): Promise<LoadSample> {
  const startMs = now();
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    const body = await res.text();
    const endMs = now();
    if (res.status < 200 || res.status > 299) return { startMs, endMs, ok: false, status: res.status };
    const views = (JSON.parse(body) as { views?: unknown }).views;
    if (typeof views !== "number") return { startMs, endMs, ok: false, error: "2xx without a count" };
    return { startMs, endMs, ok: true, views };
  } catch (err) {
    return { startMs, endMs: now(), ok: false, error: fetchErrorReason(err) };
  }
}

/** A short, stable reason: "timeout", "ECONNRESET", "ECONNREFUSED", … (fetch hides the code in `cause`). */
export function fetchErrorReason(err: unknown): string {
  if (err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError")) return "timeout";
  const cause = err instanceof Error ? (err.cause as { code?: unknown } | undefined) : undefined;
  if (typeof cause?.code === "string") return cause.code;
  if (err instanceof SyntaxError) return "unparsable body";
  return err instanceof Error ? err.message : String(err);
}

async function readCount(statsUrl: URL, page: string, timeoutMs: number): Promise<number> {
  const res = await fetch(statsUrl, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`GET ${statsUrl} answered ${res.status}`);
  const stats = (await res.json()) as { pages?: Record<string, number> };
  return stats.pages?.[page] ?? 0;
}

async function readCountAfter(statsUrl: URL, page: string, timeoutMs: number, patienceMs: number): Promise<number> {
  const giveUp = performance.now() + patienceMs;
  for (;;) {
    try {
      return await readCount(statsUrl, page, timeoutMs);
    } catch (err) {
      if (performance.now() > giveUp)
        throw new Error(
          `the counter did not answer GET ${statsUrl} within ${patienceMs / 1000} s after the load (${fetchErrorReason(err)}): check the stack with pifleet app status`,
        );
      await sleep(500);
    }
  }
}
