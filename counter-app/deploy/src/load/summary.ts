/**
 * What a bounded load run saw, and what it means for the counter (pure).
 *
 * A request either got a 2xx with the count its increment produced (`ok`), or
 * it did not (`failed`: a status, a reset, a timeout). A failed request may or
 * may not have been counted: a reset while the VIP moves can come after the
 * app incremented. So failures are reported, never treated as lost; only
 * acknowledged increments the final counter misses are lost.
 */
export type LoadSample =
  | { startMs: number; endMs: number; ok: true; views: number }
  | { startMs: number; endMs: number; ok: false; status?: number; error?: string };

export interface LoadGap {
  fromMs: number;
  toMs: number;
  ms: number;
}

export interface LoadSummary {
  requests: number;
  ok: number;
  failed: number;
  /** Failures by reason ("503", "timeout", "ECONNRESET", …), most frequent first. */
  failures: [reason: string, count: number][];
  before: number;
  after: number;
  /** after − before: increments the counter kept, acknowledged or not. */
  counted: number;
  /** Acknowledged increments the final counter does not contain: ok − counted when positive. */
  lost: number;
  /** Counted increments nobody was told about (failed requests that still counted): counted − ok when positive. */
  countedUnacknowledged: number;
  /** ok responses carrying a count another ok response also carried: the counter went back (a lost write), then counted up again. */
  repeatedCounts: number;
  /** The longest time with no successful answer, run start and end included ("time until service resumed"). */
  longestGap: LoadGap;
  durationMs: number;
}

export function failureReason(sample: LoadSample): string {
  if (sample.ok) return "ok";
  return sample.status !== undefined ? String(sample.status) : (sample.error ?? "error");
}

/** Summarises samples of one run against the counter read before and after it. */
export function summarizeLoad(samples: readonly LoadSample[], counter: { before: number; after: number }, durationMs: number): LoadSummary {
  const ok = samples.filter((s): s is Extract<LoadSample, { ok: true }> => s.ok);
  const reasons = new Map<string, number>();
  for (const s of samples) if (!s.ok) reasons.set(failureReason(s), (reasons.get(failureReason(s)) ?? 0) + 1);
  const seen = new Map<number, number>();
  for (const s of ok) seen.set(s.views, (seen.get(s.views) ?? 0) + 1);
  const repeatedCounts = [...seen.values()].filter((n) => n > 1).reduce((sum, n) => sum + n, 0);
  const counted = counter.after - counter.before;
  return {
    requests: samples.length,
    ok: ok.length,
    failed: samples.length - ok.length,
    failures: [...reasons].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])),
    before: counter.before,
    after: counter.after,
    counted,
    lost: Math.max(0, ok.length - counted),
    countedUnacknowledged: Math.max(0, counted - ok.length),
    repeatedCounts,
    longestGap: longestGap(
      ok.map((s) => s.endMs),
      durationMs,
    ),
    durationMs,
  };
}

/** The longest interval in [0, durationMs] without a success, given the times successes arrived. */
export function longestGap(successTimesMs: readonly number[], durationMs: number): LoadGap {
  const times = [0, ...[...successTimesMs].sort((a, b) => a - b), durationMs];
  let best: LoadGap = { fromMs: 0, toMs: 0, ms: 0 };
  for (let i = 1; i < times.length; i++) {
    const from = times[i - 1] as number;
    const to = times[i] as number;
    if (to - from > best.ms) best = { fromMs: from, toMs: to, ms: to - from };
  }
  return best;
}

/** One line of figures for logs and test output. */
export function renderLoadSummary(s: LoadSummary): string {
  const failures = s.failures.length ? ` (${s.failures.map(([r, n]) => `${n}× ${r}`).join(", ")})` : "";
  const gap = `${(s.longestGap.ms / 1000).toFixed(1)} s (${(s.longestGap.fromMs / 1000).toFixed(1)}–${(s.longestGap.toMs / 1000).toFixed(1)} s)`;
  return (
    `${s.requests} requests in ${(s.durationMs / 1000).toFixed(1)} s: ${s.ok} ok, ${s.failed} failed${failures}; ` +
    `counter ${s.before} → ${s.after} (${s.counted} counted): ${s.lost} lost, ${s.countedUnacknowledged} counted without an answer, ` +
    `${s.repeatedCounts} repeated counts; longest time without a success ${gap}`
  );
}
