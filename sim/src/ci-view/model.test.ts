import { InputError } from "@pifleet/fleet";
import { describe, expect, it } from "vitest";
import { type ApiJob, type ApiPipeline, failedJobs, findJob, isStalled, nodeOf, pipelineView, summarize } from "./model.js";

const nodes = [
  { name: "pi1", address: "198.19.255.11" },
  { name: "pi2", address: "198.19.255.12" },
  { name: "pi10", address: "198.19.255.20" },
];

const pipeline: ApiPipeline = {
  id: 7,
  ref: "main",
  sha: "a".repeat(40),
  status: "running",
  source: "push",
  web_url: "http://x/p/7",
  duration: 42,
};

function job(id: number, name: string, status: string, extra: Partial<ApiJob> = {}): ApiJob {
  return {
    id,
    name,
    stage: "verify",
    status,
    allow_failure: false,
    duration: null,
    started_at: null,
    finished_at: null,
    runner: null,
    runner_manager: null,
    ...extra,
  };
}

const onRunner = (id: number, description: string, ip: string | null = null): Partial<ApiJob> => ({
  runner: { id, description },
  runner_manager: { ip_address: ip },
});

describe("nodeOf", () => {
  it("is the node whose address the runner manager called from", () => {
    expect(nodeOf(job(1, "a", "running", onRunner(3, "anything", "198.19.255.12")), nodes)).toBe("pi2");
  });

  it("falls back to a node name standing as a word of the runner's description", () => {
    expect(nodeOf(job(1, "a", "running", onRunner(3, "pifleet pfs-1/pi10/deploy [deploy; protected]", "")), nodes)).toBe("pi10");
    expect(nodeOf(job(1, "a", "running", onRunner(3, "pifleet pfs-1/pi1/amd64-docker [amd64,docker,pi]", "10.9.9.9")), nodes)).toBe("pi1");
  });

  it("is null before a runner took the job, or for a runner of no known node", () => {
    expect(nodeOf(job(1, "a", "pending"), nodes)).toBeNull();
    expect(nodeOf(job(1, "a", "running", onRunner(3, "shared runner pi", "")), nodes)).toBeNull();
    // pi1 is not a word of "pi10": no false match on a prefix.
    expect(nodeOf(job(1, "a", "running", onRunner(3, "pifleet c/pi10x/p", "")), nodes)).toBeNull();
  });
});

describe("pipelineView", () => {
  it("orders jobs as GitLab created them (the API lists newest first) and carries their facts", () => {
    const view = pipelineView(
      pipeline,
      [
        job(12, "deploy", "created", { stage: "deploy" }),
        job(11, "unit-tests", "failed", { failure_reason: "script_failure", duration: 61.4, ...onRunner(4, "r", "198.19.255.11") }),
        job(10, "lint", "success", { duration: 9.6, ...onRunner(5, "r", "198.19.255.12") }),
      ],
      nodes,
    );
    expect(view).toMatchObject({ id: 7, ref: "main", status: "running", webUrl: "http://x/p/7", duration: 42, yamlErrors: null });
    expect(view.jobs.map((j) => [j.id, j.name, j.node, j.duration, j.failureReason])).toEqual([
      [10, "lint", "pi2", 10, null],
      [11, "unit-tests", "pi1", 61, "script_failure"],
      [12, "deploy", null, null, null],
    ]);
    expect(view.jobs[0]?.runner).toEqual({ id: 5, description: "r" });
  });

  it("keeps a stuck reason only on a job that is still pending", () => {
    const reasons = new Map([
      [1, "This job is stuck because …"],
      [2, "stale"],
    ]);
    const view = pipelineView(pipeline, [job(1, "a", "pending"), job(2, "b", "running")], nodes, reasons);
    expect(view.jobs.map((j) => j.stuckReason)).toEqual(["This job is stuck because …", null]);
  });
});

describe("isStalled", () => {
  const view = (jobs: ApiJob[], reasons: [number, string][] = [], status = "pending") =>
    pipelineView({ ...pipeline, status }, jobs, nodes, new Map(reasons));

  it("is stalled when every open job waits and the pending ones are stuck", () => {
    expect(isStalled(view([job(1, "a", "success"), job(2, "b", "pending"), job(3, "c", "created")], [[2, "stuck"]]))).toBe(true);
  });

  it("is not stalled while something runs, a pending job is merely queued, or nothing is pending", () => {
    expect(isStalled(view([job(1, "a", "running"), job(2, "b", "pending")], [[2, "stuck"]], "running"))).toBe(false);
    expect(isStalled(view([job(1, "a", "pending"), job(2, "b", "pending")], [[2, "stuck"]]))).toBe(false);
    expect(isStalled(view([job(1, "a", "created")], [], "created"))).toBe(false);
  });

  it("a finished pipeline is never stalled", () => {
    expect(isStalled(view([job(1, "a", "pending")], [[1, "stuck"]], "failed"))).toBe(false);
  });
});

describe("failedJobs, summarize, findJob", () => {
  const view = pipelineView(
    pipeline,
    [
      job(1, "lint", "success", onRunner(1, "r", "198.19.255.11")),
      job(2, "flaky", "failed", { allow_failure: true, ...onRunner(1, "r", "198.19.255.11") }),
      job(3, "deploy", "failed", onRunner(2, "r", "198.19.255.12")),
      job(4, "smoke", "canceled"),
      job(5, "after", "skipped"),
    ],
    nodes,
  );

  it("a failure allowed to fail does not fail the pipeline; failed and canceled jobs do", () => {
    expect(failedJobs(view).map((j) => j.name)).toEqual(["deploy", "smoke"]);
  });

  it("counts jobs per status and per node", () => {
    expect(summarize(view)).toEqual({ byStatus: { success: 1, failed: 2, canceled: 1, skipped: 1 }, byNode: { pi1: 2, pi2: 1 } });
  });

  it("finds a job by name (its latest attempt) or id, and names the jobs when there is none", () => {
    const retried = pipelineView(pipeline, [job(1, "deploy", "failed"), job(9, "deploy", "success")], nodes);
    expect(findJob(retried, "deploy").id).toBe(9);
    expect(findJob(view, "4").name).toBe("smoke");
    expect(() => findJob(view, "nosuch")).toThrow(InputError);
    expect(() => findJob(view, "nosuch")).toThrow('pipeline #7 has no job "nosuch"');
  });
});
