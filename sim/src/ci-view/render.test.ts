import { describe, expect, it } from "vitest";
import {
  changesBetween,
  fitWidth,
  formatDuration,
  redraw,
  renderChange,
  renderPipeline,
  runnerLabel,
  statusText,
  summaryLine,
} from "./render.js";
import { jobView, pipelineViewOf } from "./test-support/views.js";

const plain = { colour: false };

const job = jobView;
const pipeline = pipelineViewOf;

const runner = (id: number, node: string) => ({
  runner: { id, description: `pifleet pfs-1/${node}/deploy [deploy,pifleet,amd64; protected]` },
  node,
});

describe("formatDuration", () => {
  it("writes seconds, minutes and hours as a person reads them", () => {
    expect([formatDuration(null), formatDuration(0), formatDuration(7.4), formatDuration(65), formatDuration(3725)]).toEqual([
      "",
      "0s",
      "7s",
      "1m 05s",
      "1h 02m",
    ]);
  });
});

describe("labels", () => {
  it("the runner column is its id and description without the settings bracket", () => {
    expect(runnerLabel(job(1, "a", "running", runner(12, "pi1")))).toBe("#12 pifleet pfs-1/pi1/deploy");
    expect(runnerLabel(job(1, "a", "running", { runner: { id: 3, description: "" } }))).toBe("#3");
    expect(runnerLabel(job(1, "a", "pending"))).toBe("");
  });

  it("the status says why a job failed, that its failure was allowed, or that it is stuck", () => {
    expect(statusText(job(1, "a", "failed", { failureReason: "script_failure" }))).toBe("failed: script_failure");
    expect(statusText(job(1, "a", "failed", { failureReason: "script_failure", allowFailure: true }))).toBe("failed (allowed)");
    expect(statusText(job(1, "a", "pending", { stuckReason: "no runner" }))).toBe("pending, stuck");
    expect(statusText(job(1, "a", "running"))).toBe("running");
  });
});

describe("renderPipeline", () => {
  const view = pipeline(
    "running",
    [
      job(1, "lint", "success", { ...runner(4, "pi2"), duration: 12 }),
      job(2, "configure", "running", { stage: "configure", ...runner(3, "pi1"), duration: 65 }),
      job(3, "deploy", "created", { stage: "deploy" }),
    ],
    { duration: 80 },
  );

  it("shows a header, one row per job in stage order (stage, job, node, runner, status, duration), and the summary", () => {
    expect(renderPipeline(view, plain)).toEqual({
      header: ["pipeline #7  main @ 01234567  (push)  running  1m 20s", "http://198.19.255.1:4000/pifleet/infra/-/pipelines/7"],
      table: {
        headers: ["stage", "job", "node", "runner", "status", "duration"],
        rows: [
          ["verify", "lint", "pi2", "#4 pifleet pfs-1/pi2/deploy", "success", "12s"],
          ["configure", "configure", "pi1", "#3 pifleet pfs-1/pi1/deploy", "running", "1m 05s"],
          ["deploy", "deploy", "", "", "created", ""],
        ],
      },
      footer: ["3 jobs: 1 success, 1 running, 1 created · per node: pi1 1, pi2 1"],
    });
  });

  it("colours statuses only when asked", () => {
    const coloured = renderPipeline(view, { colour: true });
    expect(coloured.table?.rows[0]?.[4]).toBe("\u001b[32msuccess\u001b[0m");
    expect(coloured.header[0]).toContain("\u001b[34mrunning\u001b[0m");
    expect(JSON.stringify(renderPipeline(view, plain))).not.toContain("\\u001b");
  });

  it("says which jobs are stuck and why (once per reason), and which failed", () => {
    const stuck = pipeline("failed", [
      job(1, "build:amd64", "pending", { stuckReason: "This job is stuck because … tags: deploy" }),
      job(2, "build:arm64", "pending", { stuckReason: "This job is stuck because … tags: deploy" }),
      job(3, "unit-tests", "failed", { failureReason: "script_failure" }),
    ]);
    const { footer, table } = renderPipeline(stuck, plain);
    expect(footer).toEqual([
      "3 jobs: 2 pending, 1 failed",
      "stuck: build:amd64, build:arm64: This job is stuck because … tags: deploy",
      "failed: unit-tests",
    ]);
    expect(table?.rows.map((r) => r[4])).toEqual(["pending, stuck", "pending, stuck", "failed: script_failure"]);
  });

  it("a configuration error shows in the header, and there is no table", () => {
    const report = renderPipeline(pipeline("failed", [], { yamlErrors: "jobs:x config contains unknown keys" }), plain);
    expect(report.header.at(-1)).toBe("configuration error: jobs:x config contains unknown keys");
    expect(report.table).toBeNull();
    expect(report.footer).toEqual(["0 jobs"]);
  });
});

describe("summaryLine", () => {
  it("orders nodes naturally (pi2 before pi10)", () => {
    const view = pipeline("success", [job(1, "a", "success", { node: "pi10" }), job(2, "b", "success", { node: "pi2" })]);
    expect(summaryLine(view)).toBe("2 jobs: 2 success · per node: pi2 1, pi10 1");
  });
});

describe("changesBetween and renderChange", () => {
  const first = pipeline("pending", [job(1, "lint", "pending"), job(2, "deploy", "created", { stage: "deploy" })]);

  it("the first read reports every job and the pipeline", () => {
    const changes = changesBetween(undefined, first);
    expect(changes.map((c) => (c.kind === "job" ? `${c.job.name}:${c.from}` : `pipeline:${c.from}`))).toEqual([
      "lint:null",
      "deploy:null",
      "pipeline:null",
    ]);
  });

  it("later reads report only what moved: a job's status, a job becoming stuck, a new job, the pipeline", () => {
    const next = pipeline("running", [
      job(1, "lint", "running", runner(4, "pi2")),
      job(2, "deploy", "created", { stage: "deploy" }),
      job(3, "retry", "pending"),
    ]);
    expect(
      changesBetween(first, next).map((c) =>
        c.kind === "job" ? `${c.job.name}:${c.from}→${c.job.status}` : `pipeline:${c.from}→${c.view.status}`,
      ),
    ).toEqual(["lint:pending→running", "retry:null→pending", "pipeline:pending→running"]);
    const stuck = pipeline("pending", [
      job(1, "lint", "pending", { stuckReason: "no runner" }),
      job(2, "deploy", "created", { stage: "deploy" }),
    ]);
    expect(changesBetween(first, stuck).map((c) => c.kind)).toEqual(["job"]);
    expect(changesBetween(next, next)).toEqual([]);
  });

  it("one line per change: time, stage, job, status, node and runner, and the duration once finished", () => {
    const running = job(1, "lint", "running", { ...runner(4, "pi2"), duration: 3 });
    const done = { ...running, status: "success", duration: 12 };
    expect(renderChange({ kind: "job", job: running, from: "pending" }, "12:00:01", plain)).toBe(
      "12:00:01  verify  lint  running  on pi2 (runner #4)",
    );
    expect(renderChange({ kind: "job", job: done, from: "running" }, "12:00:10", plain)).toBe(
      "12:00:10  verify  lint  success  on pi2 (runner #4)  12s",
    );
    expect(renderChange({ kind: "job", job: job(2, "x", "pending", { stuckReason: "r" }), from: null }, "t", plain)).toBe(
      "t  verify  x  pending, stuck",
    );
    expect(renderChange({ kind: "pipeline", view: pipeline("success", [], { duration: 95 }), from: "running" }, "t", plain)).toBe(
      "t  pipeline #7  success  1m 35s",
    );
    expect(renderChange({ kind: "pipeline", view: pipeline("running", []), from: "pending" }, "t", plain)).toBe("t  pipeline #7  running");
  });
});

describe("fitWidth and redraw", () => {
  it("cuts lines to the width by what shows, keeping escape sequences whole and closing the colour", () => {
    expect(fitWidth(["short", "0123456789abc"], 10)).toEqual(["short", "012345678…"]);
    const [cut] = fitWidth(["ab\u001b[32mcdefgh\u001b[0mij"], 5);
    expect(cut).toBe("ab\u001b[32mcd…\u001b[0m");
    expect(fitWidth(["ab\u001b[32mcd\u001b[0m"], 4)).toEqual(["ab\u001b[32mcd\u001b[0m"]);
  });

  it("moves up over the previous drawing and clears it before drawing again", () => {
    expect(redraw(0, ["a", "b"])).toBe("a\nb\n");
    expect(redraw(2, ["c"])).toBe("\u001b[2F\u001b[Jc\n");
  });
});
