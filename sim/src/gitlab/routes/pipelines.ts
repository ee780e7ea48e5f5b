import { type Request, type Response, Router } from "express";
import { DEVELOPER, REPORTER } from "../access.js";
import { allowScopes } from "../auth.js";
import { ciEngine } from "../ci-engine.js";
import { pipelineFacts, presentJob, presentPipeline, presentPipelineBasic } from "../ci-present.js";
import { CI_STATUSES, COMPLETED_STATUSES, ciState, PIPELINE_SOURCES, type SimCiJob, type SimPipeline } from "../ci-state.js";
import type { Emulator } from "../context.js";
import { paramError } from "../errors.js";
import { boolParam, enumParam, type Params, readParams, stringParam } from "../params.js";
import { sendPage } from "../send-page.js";
import { memberProject, projectRecord } from "./project-access.js";

const LIST_SCOPES = ["running", "pending", "finished", "branches", "tags"] as const;
const ORDER_BY = ["id", "status", "ref", "updated_at", "user_id"] as const;

/** A Grape DateTime parameter. */
function timeParam(p: Params, name: string): number | undefined {
  const v = stringParam(p, name);
  if (v === undefined) return undefined;
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw paramError(`${name} is invalid`);
  return t;
}

/** `scope` of the job lists: one status or an array of them (scope[]=pending&scope[]=running). */
function jobScopeParam(p: Params): string[] | undefined {
  const v = p.scope;
  if (v === undefined) return undefined;
  const list = Array.isArray(v) ? v.map(String) : [String(v)];
  if (list.some((s) => !(CI_STATUSES as readonly string[]).includes(s))) throw paramError("scope does not have a valid value");
  return list;
}

/**
 * Pipelines and jobs (lib/api/ci/pipelines.rb, lib/api/ci/jobs.rb): list and show pipelines, a
 * pipeline's jobs, a project's jobs, one job and its log; cancel a job or a pipeline. Reading needs the
 * Reporter role, cancelling Developer; a non-member gets 404 "Project Not Found" (the projects are private).
 */
export function pipelinesRouter(emu: Emulator): Router {
  const r = Router();
  const ci = () => ciState(emu.state);

  // read_pipeline / read_build: Reporter; cancel (update_build, update_pipeline): Developer.
  const project = (req: Request, res: Response) => memberProject(emu, req, res, REPORTER);
  const pipeline = (req: Request, res: Response, role = REPORTER) => projectRecord(emu, req, res, "pipeline_id", ci().pipelines, role);
  const job = (req: Request, res: Response, role = REPORTER) => projectRecord(emu, req, res, "job_id", ci().jobs, role);

  r.get("/projects/:id/pipelines", allowScopes(), (req, res) => {
    const p = readParams(req);
    const scope = enumParam(p, "scope", LIST_SCOPES);
    const status = enumParam(p, "status", CI_STATUSES);
    const source = enumParam(p, "source", PIPELINE_SOURCES);
    const orderBy = enumParam(p, "order_by", ORDER_BY) ?? "id";
    const sort = enumParam(p, "sort", ["asc", "desc"] as const) ?? "desc";
    const ref = stringParam(p, "ref");
    const sha = stringParam(p, "sha");
    const username = stringParam(p, "username");
    // yaml_errors=true: only pipelines with a configuration error. No sim pipeline has a name (workflow:name): that filter matches none.
    const withYamlErrors = boolParam(p, "yaml_errors") === true;
    const matchesNone = stringParam(p, "name") !== undefined;
    const bounds = {
      createdAfter: timeParam(p, "created_after"),
      createdBefore: timeParam(p, "created_before"),
      updatedAfter: timeParam(p, "updated_after"),
      updatedBefore: timeParam(p, "updated_before"),
    };
    const target = project(req, res);
    const all = ci().pipelines.filter((x) => x.project_id === target.id);
    const statusOf = new Map(all.map((x) => [x.id, pipelineFacts(emu, x).status]));
    // branches / tags: the newest pipeline of each branch / tag.
    const latestIds = (tag: boolean) => {
      const newest = new Map<string, number>();
      for (const x of all) if (x.tag === tag) newest.set(x.ref, Math.max(x.id, newest.get(x.ref) ?? 0));
      return new Set(newest.values());
    };
    const scoped = scope === "branches" ? latestIds(false) : scope === "tags" ? latestIds(true) : undefined;
    const user = username === undefined ? undefined : emu.state.users.find((u) => u.username === username);
    const between = (iso: string, after?: number, before?: number) =>
      (after === undefined || Date.parse(iso) > after) && (before === undefined || Date.parse(iso) < before);
    const pipelines = all.filter((x) => {
      if (matchesNone) return false;
      if (withYamlErrors && !x.yaml_errors) return false;
      const st = statusOf.get(x.id) ?? "created";
      if (scope === "running" && st !== "running") return false;
      if (scope === "pending" && st !== "pending") return false;
      if (scope === "finished" && !COMPLETED_STATUSES.includes(st)) return false;
      if (scoped && !scoped.has(x.id)) return false;
      if (status && st !== status) return false;
      if (source && x.source !== source) return false;
      if (ref !== undefined && x.ref !== ref) return false;
      if (sha !== undefined && x.sha !== sha) return false;
      if (username !== undefined && x.user_id !== user?.id) return false;
      if (!between(x.created_at, bounds.createdAfter, bounds.createdBefore)) return false;
      return between(x.updated_at, bounds.updatedAfter, bounds.updatedBefore);
    });
    const key = (x: SimPipeline): string | number =>
      orderBy === "id" ? x.id : orderBy === "user_id" ? x.user_id : orderBy === "status" ? (statusOf.get(x.id) ?? "") : x[orderBy];
    const compare = (a: SimPipeline, b: SimPipeline) => {
      const ka = key(a);
      const kb = key(b);
      const c = ka < kb ? -1 : ka > kb ? 1 : a.id - b.id;
      return sort === "asc" ? c : -c;
    };
    sendPage(req, res, p, pipelines.sort(compare), (x) => presentPipelineBasic(emu, x));
  });

  r.get("/projects/:id/pipelines/:pipeline_id", allowScopes(), (req, res) => {
    res.json(presentPipeline(emu, pipeline(req, res)));
  });

  /** JobsFinder: the jobs `which` picks (after its 404 checks), filtered by scope, newest first, one page. */
  const sendJobs = (req: Request, res: Response, which: () => (j: SimCiJob) => boolean) => {
    const p = readParams(req);
    const scope = jobScopeParam(p);
    const jobs = ci()
      .jobs.filter(which())
      .filter((j) => !scope || scope.includes(j.status));
    sendPage(
      req,
      res,
      p,
      jobs.sort((a, b) => b.id - a.id),
      (j) => presentJob(emu, j),
    );
  };

  r.get("/projects/:id/pipelines/:pipeline_id/jobs", allowScopes(), (req, res) => {
    sendJobs(req, res, () => {
      const found = pipeline(req, res);
      return (j) => j.pipeline_id === found.id;
    });
  });

  r.get("/projects/:id/jobs", allowScopes(), (req, res) => {
    sendJobs(req, res, () => {
      const target = project(req, res);
      return (j) => j.project_id === target.id;
    });
  });

  r.get("/projects/:id/jobs/:job_id", allowScopes(), (req, res) => {
    res.json(presentJob(emu, job(req, res)));
  });

  // The raw log, as GitLab sends it: text/plain, named <id>.log.
  r.get("/projects/:id/jobs/:job_id/trace", allowScopes(), (req, res) => {
    const found = job(req, res);
    res.set("Content-Disposition", `infile; filename="${found.id}.log"`).type("text/plain").send(found.trace);
  });

  // Cancel (Ci::Build#cancel, Ci::Pipeline#cancel_running): 201 with the job or pipeline as it is now;
  // a job that cannot be canceled any more is answered unchanged, as GitLab does.
  r.post("/projects/:id/jobs/:job_id/cancel", allowScopes(), (req, res) => {
    const found = job(req, res, DEVELOPER);
    ciEngine(emu).cancelJob(found);
    res.status(201).json(presentJob(emu, found));
  });

  r.post("/projects/:id/pipelines/:pipeline_id/cancel", allowScopes(), (req, res) => {
    const found = pipeline(req, res, DEVELOPER);
    ciEngine(emu).cancelPipeline(found);
    res.status(201).json(presentPipeline(emu, found));
  });

  return r;
}
