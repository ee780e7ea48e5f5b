import { manualClock } from "@pifleet/io";
import { describe, expect, it } from "vitest";
import { followPipeline } from "./follow.js";
import type { JobView, PipelineView } from "./model.js";
import { jobView, pipelineViewOf } from "./test-support/views.js";

const job = (status: string, stuckReason: string | null = null) => jobView(1, "deploy", status, { stage: "deploy", stuckReason });
const view = (status: string, jobs: JobView[]) => pipelineViewOf(status, jobs);

/** Reads the scripted views in turn, the last one again and again. */
function script(...views: PipelineView[]) {
  let i = 0;
  return async () => views[Math.min(i++, views.length - 1)] as PipelineView;
}

describe("followPipeline", () => {
  it("reads until the pipeline finishes, handing each read and the one before it to the caller", async () => {
    const seen: [string, string | undefined][] = [];
    const clock = manualClock();
    const result = await followPipeline({
      read: script(view("pending", [job("pending")]), view("running", [job("running")]), view("success", [job("success")])),
      onView: (v, prev) => seen.push([v.status, prev?.status]),
      timeoutMs: 60_000,
      clock,
    });
    expect(result.end).toBe("finished");
    expect(result.view.status).toBe("success");
    expect(seen).toEqual([
      ["pending", undefined],
      ["running", "pending"],
      ["success", "running"],
    ]);
    expect(clock.sleeps).toEqual([1000, 1000]);
  });

  it("a pipeline waiting only for a person (manual) counts as finished", async () => {
    const result = await followPipeline({
      read: script(view("manual", [job("manual")])),
      onView: () => {},
      timeoutMs: 1000,
      clock: manualClock(),
    });
    expect(result.end).toBe("finished");
  });

  it("stops once the pipeline has been stuck for stallMs, not before", async () => {
    const clock = manualClock();
    let reads = 0;
    const result = await followPipeline({
      read: async () => {
        reads++;
        // Queued first (a runner may take it), then stuck for good.
        return reads === 1 ? view("pending", [job("pending")]) : view("pending", [job("pending", "This job is stuck")]);
      },
      onView: () => {},
      pollMs: 1000,
      stallMs: 5000,
      timeoutMs: 3_600_000,
      clock,
    });
    expect(result.end).toBe("stalled");
    // Stuck from the second read (t = 1 s) until t = 6 s: six reads in all.
    expect(reads).toBe(7);
  });

  it("a job that moves again resets the stall clock", async () => {
    const clock = manualClock();
    const stuck = view("pending", [job("pending", "stuck")]);
    const result = await followPipeline({
      read: script(stuck, stuck, view("running", [job("running")]), stuck, stuck, stuck, view("success", [job("success")])),
      onView: () => {},
      stallMs: 2500,
      timeoutMs: 3_600_000,
      clock,
    });
    expect(result.end).toBe("finished");
  });

  it("gives up after timeoutMs", async () => {
    const clock = manualClock();
    const result = await followPipeline({ read: script(view("running", [job("running")])), onView: () => {}, timeoutMs: 10_000, clock });
    expect(result.end).toBe("timeout");
    expect(clock.now()).toBe(10_000);
  });
});
