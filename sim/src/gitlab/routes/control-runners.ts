import { Router } from "express";
import { createPipeline, findCiJob, updateJob } from "../ci-jobs.js";
import { presentJob } from "../ci-present.js";
import { recordContact } from "../contact.js";
import type { Emulator } from "../context.js";
import { ApiError, paramError } from "../errors.js";
import { findProject, findRunner } from "../lookup.js";
import { enumParam, intParam, readParams, requireParam, stringParam } from "../params.js";
import { presentRunnerDetails } from "../present.js";
import { ONLINE_CONTACT_TIMEOUT_MS, RUNNER_STATUSES, STALE_TIMEOUT_MS } from "../runner-model.js";

const FINISHED = ["success", "failed", "canceled"] as const;
const HOUR = 60 * 60 * 1000;

/** Control API for runners, jobs and merge requests: what a real runner or a person in the UI would cause. */
export function controlRunnersRouter(emu: Emulator): Router {
  const r = Router();
  const details = (id: unknown) => presentRunnerDetails(findRunner(emu, id), emu.state, emu.now(), emu.baseUrl(), true);

  // The runner called home: contacted_at = now (or `ago_seconds` earlier); with system_id its manager is upserted.
  r.post("/runners/:id/contact", (req, res) => {
    const p = readParams(req);
    const runner = findRunner(emu, req.params.id);
    const ago = intParam(p, "ago_seconds") ?? 0;
    recordContact(emu, runner, {
      at: new Date(emu.now().getTime() - ago * 1000),
      systemId: stringParam(p, "system_id"),
      version: stringParam(p, "version"),
      ipAddress: stringParam(p, "ip_address"),
      architecture: stringParam(p, "architecture"),
    });
    res.json(details(req.params.id));
  });

  // Assign a project runner to one more project (GitLab's POST /projects/:id/runners, which the
  // emulator does not serve), so a runner belongs to several projects as in GitLab.
  r.post("/runners/:id/projects", (req, res) => {
    const runner = findRunner(emu, req.params.id);
    const project = findProject(emu, String(requireParam(intParam(readParams(req), "project_id"), "project_id")));
    if (runner.runner_type !== "project_type")
      throw paramError(`runner ${runner.id} is a ${runner.runner_type} runner, not a project runner`);
    if (runner.project_ids.includes(project.id)) throw paramError(`runner ${runner.id} is already assigned to project ${project.id}`);
    runner.project_ids.push(project.id);
    emu.save();
    res.status(201).json(details(req.params.id));
  });

  // Put a runner (and its managers) into a status by moving its timestamps, as time passing would.
  r.post("/runners/:id/status", (req, res) => {
    const status = requireParam(enumParam(readParams(req), "status", RUNNER_STATUSES), "status");
    const runner = findRunner(emu, req.params.id);
    const now = emu.now().getTime();
    const iso = (t: number) => new Date(t).toISOString();
    const contacted = {
      online: iso(now),
      offline: iso(now - ONLINE_CONTACT_TIMEOUT_MS - HOUR),
      stale: iso(now - STALE_TIMEOUT_MS - HOUR),
      never_contacted: null,
    }[status];
    runner.contacted_at = contacted;
    if (status === "stale") runner.created_at = iso(Math.min(Date.parse(runner.created_at), now - STALE_TIMEOUT_MS - 2 * HOUR));
    if (status === "never_contacted") {
      runner.created_at = iso(now);
      runner.managers = [];
    }
    for (const m of runner.managers) m.contacted_at = contacted ?? m.contacted_at;
    emu.save();
    res.json(details(req.params.id));
  });

  // A job starts running on the runner (optionally on one manager), in a one-job pipeline of its own:
  // what GET /runners/:id/jobs?status=running shows.
  r.post("/runners/:id/jobs", (req, res) => {
    const p = readParams(req);
    const runner = findRunner(emu, req.params.id);
    // By default a project the runner serves, and the runner's own tags, so GitLab would give it the job.
    const served = runner.project_ids[0] ?? emu.state.projects.find((x) => x.group_id === runner.group_id)?.id;
    const project = findProject(emu, String(intParam(p, "project_id") ?? served ?? emu.state.projects[0]?.id));
    const { jobs } = createPipeline(emu, {
      project,
      userId: runner.creator_id,
      ref: stringParam(p, "ref"),
      jobs: [
        {
          name: stringParam(p, "name") ?? "build",
          stage: stringParam(p, "stage") ?? "test",
          tag_list: runner.tag_list,
          status: "running",
          runner_id: runner.id,
          system_id: stringParam(p, "system_id") ?? runner.managers[0]?.system_id,
        },
      ],
    });
    const [job] = jobs;
    if (!job) throw new Error("createPipeline made no job");
    res.status(201).json(presentJob(emu, job));
  });

  r.post("/jobs/:id/finish", (req, res) => {
    const status = enumParam(readParams(req), "status", FINISHED) ?? "success";
    const job = findCiJob(emu, req.params.id);
    if (!job) throw new ApiError(404, { message: `404 Job Not Found (no job ${req.params.id})` });
    if (job.status !== "running") throw paramError(`job ${job.id} is ${job.status}, not running`);
    res.json(presentJob(emu, updateJob(emu, job, { status })));
  });

  // Another open merge request to post notes on.
  r.post("/merge_requests", (req, res) => {
    const p = readParams(req);
    const project = findProject(emu, String(intParam(p, "project_id") ?? emu.state.projects[0]?.id));
    const iid = Math.max(0, ...emu.state.mergeRequests.filter((m) => m.project_id === project.id).map((m) => m.iid)) + 1;
    const mr = {
      id: emu.state.nextId.mergeRequest++,
      project_id: project.id,
      iid,
      title: stringParam(p, "title") ?? `Simulated merge request ${iid}`,
    };
    emu.state.mergeRequests.push(mr);
    emu.save();
    res.status(201).json(mr);
  });

  return r;
}
