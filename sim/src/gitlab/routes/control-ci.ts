import { Router } from "express";
import { advancePipelines } from "../ci-advance.js";
import { createPipeline, findCiJob, type NewJob, updateJob } from "../ci-jobs.js";
import { presentJob, presentPipeline } from "../ci-present.js";
import { CI_STATUSES, ciState, PIPELINE_SOURCES } from "../ci-state.js";
import { stuckReason } from "../ci-stuck.js";
import type { Emulator } from "../context.js";
import { ApiError, paramError } from "../errors.js";
import { findProject } from "../lookup.js";
import { boolParam, enumParam, intParam, type Params, readParams, requireParam, stringParam, tagListParam } from "../params.js";

/** Reads a job change (status, runner, log) from a control request body. */
function jobChange(p: Params) {
  const runner = p.runner_id === null ? null : intParam(p, "runner_id");
  return {
    status: enumParam(p, "status", CI_STATUSES),
    runner_id: runner,
    system_id: p.system_id === null ? null : stringParam(p, "system_id"),
    failure_reason: stringParam(p, "failure_reason"),
    trace: stringParam(p, "trace"),
    append_trace: stringParam(p, "append_trace"),
  };
}

/**
 * Control API for pipelines and jobs (/-/sim/pipelines, /-/sim/jobs/:id): what GitLab and its
 * runners would cause. The pipeline engine will drive the same operations (ci-jobs.ts).
 */
export function controlCiRouter(emu: Emulator): Router {
  const r = Router();

  // A pipeline with its jobs: {project_id?, ref?, sha?, tag?, source?, stages?, jobs: [{name, stage?, tag_list?, allow_failure?,
  // when?, needs?, resource_group?, environment?, timeout_s?, config?, status?, runner_id?, system_id?, trace?}]}.
  r.post("/pipelines", (req, res) => {
    const p = readParams(req);
    const project = findProject(emu, String(intParam(p, "project_id") ?? emu.state.projects[0]?.id));
    if (!Array.isArray(p.jobs) || p.jobs.length === 0) throw paramError("jobs must be a non-empty array of {name, stage?, …}");
    const jobs: NewJob[] = p.jobs.map((raw: unknown, i: number) => {
      if (typeof raw !== "object" || raw === null) throw paramError(`jobs[${i}] must be an object`);
      const j = raw as Params;
      const change = jobChange(j);
      return {
        name: requireParam(stringParam(j, "name"), `jobs[${i}].name`),
        stage: stringParam(j, "stage"),
        tag_list: tagListParam(j),
        allow_failure: boolParam(j, "allow_failure"),
        when: stringParam(j, "when"),
        needs: Array.isArray(j.needs) ? j.needs.map(String) : undefined,
        resource_group: stringParam(j, "resource_group"),
        environment: stringParam(j, "environment"),
        timeout_s: intParam(j, "timeout_s"),
        config: typeof j.config === "object" && j.config !== null ? (j.config as Record<string, unknown>) : undefined,
        status: change.status,
        runner_id: change.runner_id ?? undefined,
        system_id: change.system_id ?? undefined,
        trace: change.trace,
      };
    });
    const admin = emu.state.users.find((u) => u.is_admin);
    const created = createPipeline(emu, {
      project,
      userId: intParam(p, "user_id") ?? admin?.id ?? 1,
      ref: stringParam(p, "ref"),
      sha: stringParam(p, "sha"),
      tag: boolParam(p, "tag"),
      source: enumParam(p, "source", PIPELINE_SOURCES),
      stages: Array.isArray(p.stages) ? p.stages.map(String) : undefined,
      jobs,
    });
    // With stages the scheduler runs it like a triggered pipeline; without, the jobs stay as given.
    if (created.pipeline.stages) advancePipelines(emu);
    res.status(201).json({ pipeline: presentPipeline(emu, created.pipeline), jobs: created.jobs.map((j) => presentJob(emu, j)) });
  });

  // A job as the API shows it, plus what only GitLab's job page shows: why a pending job is stuck;
  // and the emulator's record of the payload its runner got (keys only; null until a runner took it).
  r.get("/jobs/:id", (req, res) => {
    const job = findCiJob(emu, req.params.id);
    if (!job) throw new ApiError(404, { message: `404 Job Not Found (no job ${req.params.id})` });
    res.json({ ...presentJob(emu, job), stuck_reason: stuckReason(emu, job.id) ?? null, payload: job.payload_record ?? null });
  });

  // Every job of a pipeline with its payload record: [{job_id, name, stage, status, payload}], in job order.
  // Tests assert with it which jobs received which protected variables, and on which runners they ran.
  r.get("/pipelines/:id/payloads", (req, res) => {
    const id = Number(req.params.id);
    const ci = ciState(emu.state);
    if (!ci.pipelines.some((p) => p.id === id))
      throw new ApiError(404, { message: `404 Pipeline Not Found (no pipeline ${req.params.id})` });
    const jobs = ci.jobs.filter((j) => j.pipeline_id === id).sort((a, b) => a.id - b.id);
    res.json(jobs.map((j) => ({ job_id: j.id, name: j.name, stage: j.stage, status: j.status, payload: j.payload_record ?? null })));
  });

  // Move a job: {status?, runner_id?, system_id?, failure_reason?, trace?, append_trace?}.
  r.put("/jobs/:id", (req, res) => {
    const job = findCiJob(emu, req.params.id);
    if (!job) throw new ApiError(404, { message: `404 Job Not Found (no job ${req.params.id})` });
    const change = jobChange(readParams(req));
    res.json(presentJob(emu, updateJob(emu, job, change)));
  });

  return r;
}
