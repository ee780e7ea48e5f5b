import { describe, expect, it } from "vitest";
import { assignResources, hasCapacity, jobTimeoutSeconds, pickJob, processPipeline, type SchedJob } from "./ci-schedule.js";

const STAGES = ["build", "test", "deploy"];
let nextId = 1;
function job(name: string, stage: string, fields: Partial<SchedJob> = {}): SchedJob {
  return {
    id: nextId++,
    pipeline_id: 1,
    project_id: 1,
    name,
    stage,
    status: "created",
    allow_failure: false,
    when: "on_success",
    needs: undefined,
    resource_group: null,
    runner_id: null,
    ...fields,
  };
}
/** name → status after processing. */
function processed(jobs: SchedJob[], stages = STAGES): Record<string, string> {
  const changes = new Map(processPipeline(jobs, stages).map((c) => [c.id, c.status]));
  return Object.fromEntries(jobs.map((j) => [j.name, changes.get(j.id) ?? j.status]));
}

describe("processPipeline: stage order", () => {
  it("starts the first stage and holds the later ones", () => {
    expect(processed([job("b", "build"), job("t", "test"), job("d", "deploy")])).toEqual({ b: "pending", t: "created", d: "created" });
  });

  it("starts a stage when every job of the earlier stages succeeded", () => {
    const jobs = [job("b1", "build", { status: "success" }), job("b2", "build", { status: "running" }), job("t", "test")];
    expect(processed(jobs).t).toBe("created");
    jobs[1] = { ...(jobs[1] as SchedJob), status: "success" };
    expect(processed(jobs).t).toBe("pending");
  });

  it("skips on_success jobs after a failure, runs on_failure and always jobs", () => {
    const jobs = [
      job("b", "build", { status: "failed" }),
      job("t", "test"),
      job("cleanup", "test", { when: "always" }),
      job("notify", "test", { when: "on_failure" }),
      job("d", "deploy"),
    ];
    expect(processed(jobs)).toEqual({ b: "failed", t: "skipped", cleanup: "pending", notify: "pending", d: "created" });
  });

  it("skips on_failure jobs when everything passed", () => {
    expect(processed([job("b", "build", { status: "success" }), job("notify", "test", { when: "on_failure" })]).notify).toBe("skipped");
  });

  it("treats a failure that may fail as a pass", () => {
    const jobs = [job("lint", "build", { status: "failed", allow_failure: true }), job("t", "test")];
    expect(processed(jobs).t).toBe("pending");
  });

  it("skips the rest of the pipeline after a cancel, even always jobs", () => {
    const jobs = [job("b", "build", { status: "canceled" }), job("t", "test"), job("cleanup", "test", { when: "always" })];
    expect(processed(jobs)).toMatchObject({ t: "skipped", cleanup: "skipped" });
  });

  it("carries skips through several stages in one pass", () => {
    const jobs = [job("b", "build", { status: "failed" }), job("t", "test"), job("d", "deploy")];
    expect(processed(jobs)).toMatchObject({ t: "skipped", d: "skipped" });
  });

  it("a job in a later stage still sees the failure of an earlier one through skipped jobs", () => {
    const jobs = [job("b", "build", { status: "failed" }), job("t", "test"), job("report", "deploy", { when: "on_failure" })];
    expect(processed(jobs).report).toBe("pending");
  });
});

describe("processPipeline: manual jobs", () => {
  it("a manual job becomes manual when reached and waits for a person", () => {
    expect(processed([job("b", "build", { status: "success" }), job("release", "test", { when: "manual" })]).release).toBe("manual");
  });

  it("a manual job that may fail does not hold the next stage", () => {
    const jobs = [job("release", "build", { status: "manual", when: "manual", allow_failure: true }), job("t", "test")];
    expect(processed(jobs).t).toBe("pending");
  });

  it("a blocking manual job (allow_failure false) holds the next stage", () => {
    const jobs = [job("approve", "build", { status: "manual", when: "manual", allow_failure: false }), job("t", "test")];
    expect(processed(jobs).t).toBe("created");
  });

  it("a manual job after a failure is skipped", () => {
    expect(processed([job("b", "build", { status: "failed" }), job("release", "test", { when: "manual" })]).release).toBe("skipped");
  });
});

describe("processPipeline: needs", () => {
  it("a job with needs starts when its needs finished, whatever its stage", () => {
    const jobs = [
      job("b", "build", { status: "success" }),
      job("slow", "build", { status: "running" }),
      job("d", "deploy", { needs: ["b"] }),
    ];
    expect(processed(jobs).d).toBe("pending");
  });

  it("needs: [] starts at once", () => {
    expect(processed([job("b", "build"), job("d", "deploy", { needs: [] })]).d).toBe("pending");
  });

  it("waits for a need that has not finished, and is skipped when it failed", () => {
    const jobs = [job("b", "build", { status: "running" }), job("d", "deploy", { needs: ["b"] })];
    expect(processed(jobs).d).toBe("created");
    jobs[0] = { ...(jobs[0] as SchedJob), status: "failed" };
    expect(processed(jobs).d).toBe("skipped");
  });

  it("a skipped need skips the job (GitLab's DAG jobs accept only success), where a stage-ordered job would run", () => {
    // unit-tests failed, so configure (stage-ordered) was skipped: runners-apply, which needs it, must not run.
    const jobs = [
      job("unit-tests", "build", { status: "failed" }),
      job("configure", "test", { status: "skipped" }),
      job("runners-apply", "deploy", { needs: ["configure"] }),
      job("cleanup", "deploy", { needs: ["configure"], when: "always" }),
      job("report", "deploy", { status: "created" }),
    ];
    expect(processed(jobs)).toMatchObject({ "runners-apply": "skipped", cleanup: "pending" });
    const stageOrdered = [job("docs", "build", { status: "skipped" }), job("publish", "test")];
    expect(processed(stageOrdered).publish).toBe("pending");
  });

  it("a need names every parallel:matrix job made from it", () => {
    const jobs = [
      job("build: [amd64]", "build", { status: "success" }),
      job("build: [arm64]", "build", { status: "running" }),
      job("manifest", "test", { needs: ["build"] }),
    ];
    expect(processed(jobs).manifest).toBe("created");
  });
});

describe("processPipeline: resource groups", () => {
  it("a job with a resource group waits for the resource instead of going pending", () => {
    expect(processed([job("deploy", "build", { resource_group: "fleet" })]).deploy).toBe("waiting_for_resource");
  });
});

describe("assignResources", () => {
  it("gives a free group to its oldest waiting job, across pipelines", () => {
    const a = job("deploy", "deploy", { pipeline_id: 2, status: "waiting_for_resource", resource_group: "fleet" });
    const b = job("configure", "build", { pipeline_id: 3, status: "waiting_for_resource", resource_group: "fleet" });
    expect(assignResources([b, a])).toEqual([{ id: a.id, status: "pending" }]);
  });

  it("holds every waiting job while one of the group is pending or running", () => {
    for (const holder of ["pending", "running"] as const) {
      const held = job("configure", "build", { pipeline_id: 2, status: holder, resource_group: "fleet" });
      const waiting = job("deploy", "deploy", { pipeline_id: 3, status: "waiting_for_resource", resource_group: "fleet" });
      expect(assignResources([held, waiting])).toEqual([]);
    }
  });

  it("groups are per project and per name", () => {
    const running = job("a", "build", { status: "running", resource_group: "fleet" });
    const otherName = job("b", "build", { status: "waiting_for_resource", resource_group: "docs" });
    const otherProject = job("c", "build", { project_id: 2, status: "waiting_for_resource", resource_group: "fleet" });
    expect(assignResources([running, otherName, otherProject]).map((c) => c.id)).toEqual([otherName.id, otherProject.id]);
  });

  it("a finished holder frees the group", () => {
    const done = job("a", "build", { status: "success", resource_group: "fleet" });
    const waiting = job("b", "build", { status: "waiting_for_resource", resource_group: "fleet" });
    expect(assignResources([done, waiting])).toEqual([{ id: waiting.id, status: "pending" }]);
  });
});

describe("pickJob", () => {
  it("takes the oldest pending job the runner may run", () => {
    const old = job("old", "build", { status: "pending", needs: [] });
    const young = job("young", "build", { status: "pending" });
    expect(pickJob([young, old], () => true)?.name).toBe("old");
    expect(pickJob([young, old], (j) => j.name === "young")?.name).toBe("young");
  });

  it("never hands out a job that is not pending or already has a runner", () => {
    const jobs = [
      job("created", "build"),
      job("manual", "build", { status: "manual" }),
      job("waiting", "build", { status: "waiting_for_resource" }),
      job("taken", "build", { status: "pending", runner_id: 4 }),
    ];
    expect(pickJob(jobs, () => true)).toBeUndefined();
  });
});

describe("hasCapacity", () => {
  it("one job at a time without a report", () => {
    expect(hasCapacity(undefined, 0, 0)).toBe(true);
    expect(hasCapacity(undefined, 1, 1)).toBe(false);
  });

  it("follows the runner's limit and the process's concurrent", () => {
    expect(hasCapacity({ limit: 2, concurrent: 4 }, 1, 1)).toBe(true);
    expect(hasCapacity({ limit: 2, concurrent: 4 }, 2, 2)).toBe(false);
    expect(hasCapacity({ limit: 2, concurrent: 2 }, 0, 2)).toBe(false);
    // limit 0: no limit of its own, concurrent still bounds it.
    expect(hasCapacity({ limit: 0, concurrent: 3 }, 2, 2)).toBe(true);
    expect(hasCapacity({ limit: 0, concurrent: 3 }, 3, 3)).toBe(false);
  });
});

describe("jobTimeoutSeconds", () => {
  it("the job's own timeout or the project's hour, capped by the runner's maximum", () => {
    expect(jobTimeoutSeconds(undefined, null)).toBe(3600);
    expect(jobTimeoutSeconds(600, null)).toBe(600);
    expect(jobTimeoutSeconds(7200, 1800)).toBe(1800);
    expect(jobTimeoutSeconds(null, 900)).toBe(900);
  });
});
