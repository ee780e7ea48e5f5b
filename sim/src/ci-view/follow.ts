import { type Clock, systemClock } from "@pifleet/io";
import { isFinished, isStalled, type PipelineView } from "./model.js";

export type FollowEnd = "finished" | "stalled" | "timeout";

export interface FollowOptions {
  /** One read of the pipeline (the REST API in use; a script in tests). */
  read: () => Promise<PipelineView>;
  /** Every read, with the one before (undefined the first time): the caller draws or logs. */
  onView: (view: PipelineView, previous: PipelineView | undefined) => void;
  /** Between reads; default 1 s. */
  pollMs?: number;
  /** Give up after this long. */
  timeoutMs: number;
  /**
   * Stop when the pipeline has been stalled this long (every open job waits and the pending ones are
   * stuck: no runner can take them, so nothing will move by itself); default 2 min.
   */
  stallMs?: number;
  clock?: Clock;
}

/** Reads the pipeline until it finishes, stalls or the time is up; returns the last read and why it stopped. */
export async function followPipeline(options: FollowOptions): Promise<{ view: PipelineView; end: FollowEnd }> {
  const clock = options.clock ?? systemClock;
  const pollMs = options.pollMs ?? 1000;
  const stallMs = options.stallMs ?? 120_000;
  const started = clock.now();
  let previous: PipelineView | undefined;
  let stalledSince: number | undefined;
  for (;;) {
    const view = await options.read();
    options.onView(view, previous);
    previous = view;
    if (isFinished(view.status)) return { view, end: "finished" };
    const now = clock.now();
    stalledSince = isStalled(view) ? (stalledSince ?? now) : undefined;
    if (stalledSince !== undefined && now - stalledSince >= stallMs) return { view, end: "stalled" };
    if (now - started >= options.timeoutMs) return { view, end: "timeout" };
    await clock.sleep(pollMs);
  }
}
