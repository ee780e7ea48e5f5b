import { basename } from "node:path";
import { type Request, type Response, Router } from "express";
import { projectAccess, REPORTER } from "../access.js";
import { artifactArchive, artifactFile, latestSuccessfulJobForRef, validArtifactPath } from "../artifacts.js";
import { tokenOf } from "../auth.js";
import { ciState, type SimCiJob } from "../ci-state.js";
import type { Emulator } from "../context.js";
import { badRequest, forbidden, insufficientScope, notFound, paramError, unauthorized } from "../errors.js";
import { jobTokenUser } from "../job-token.js";
import { findProject } from "../lookup.js";
import { readParams, requireParam, stringParam } from "../params.js";
import type { SimProject, SimUser } from "../state.js";
import { tokenOwner } from "../token-model.js";

/**
 * Who downloads: a CI_JOB_TOKEN (JOB-TOKEN header or job_token parameter) stands for the user who
 * started the job's pipeline and works only while the job runs (401 after); else a personal or project
 * access token with api or read_api. No token at all finds no private project (404), as GitLab answers
 * (authenticate_non_get!).
 */
function downloader(emu: Emulator, req: Request): SimUser | undefined {
  const jobToken = req.get("job-token") ?? stringParam(readParams(req), "job_token");
  if (jobToken !== undefined) {
    const user = jobTokenUser(emu, jobToken);
    if (!user) throw unauthorized();
    return user;
  }
  const secret = tokenOf(req);
  if (secret === undefined) return undefined;
  const owner = tokenOwner(emu.state, secret, emu.now());
  if (!owner) throw unauthorized();
  if (!owner.token.scopes.some((s) => s === "api" || s === "read_api")) throw insufficientScope(["api", "read_api"]);
  return owner.user;
}

/** The project, for a downloader with read_build there (Reporter): 404 for strangers, 403 below Reporter. */
function readableProject(emu: Emulator, req: Request): SimProject {
  const user = downloader(emu, req);
  const project = findProject(emu, req.params.id);
  const access = user ? projectAccess(emu.state, user, project, REPORTER) : "not_found";
  if (access === "not_found") throw notFound("Project");
  if (access === "forbidden") throw forbidden();
  return project;
}

/** Workhorse's answers: the archive as artifacts.zip, a single file as an attachment named after it. */
function sendArchive(res: Response, archive: Buffer): void {
  res.set({ "content-type": "application/zip", "content-disposition": 'attachment; filename="artifacts.zip"' }).send(archive);
}

function sendEntry(res: Response, path: string, data: Buffer): void {
  const name = basename(path).replaceAll('"', '\\"');
  res.set({ "content-type": "application/octet-stream", "content-disposition": `attachment; filename="${name}"` }).send(data);
}

/**
 * Job artifacts (lib/api/ci/job_artifacts.rb), the downloads a job token may make too
 * (job_token_allowed): the archive or one file of a job by id, or of the named job of the ref's
 * latest successful pipeline. Mounted before authenticate(): it reads job tokens itself.
 */
export function jobArtifactsRouter(emu: Emulator): Router {
  const r = Router();

  const jobName = (req: Request) => requireParam(stringParam(readParams(req), "job"), "job");
  const byRef = async (req: Request, project: SimProject, name: string): Promise<SimCiJob> => {
    const job = await latestSuccessfulJobForRef(emu, project, String(req.params.ref_name), name);
    // latest_successful_build_for_ref! raises RecordNotFound: the generic 404.
    if (!job) throw notFound();
    return job;
  };
  const byId = (req: Request, project: SimProject): SimCiJob => {
    const raw = String(req.params.job_id);
    if (!/^\d+$/.test(raw)) throw paramError("job_id is invalid");
    const job = ciState(emu.state).jobs.find((j) => j.id === Number(raw) && j.project_id === project.id);
    // find_build! → RecordNotFound: the generic 404.
    if (!job) throw notFound();
    return job;
  };
  const archiveOf = async (job: SimCiJob): Promise<Buffer> => {
    const archive = await artifactArchive(emu, job);
    if (!archive) throw notFound();
    return archive;
  };
  const entryOf = async (job: SimCiJob, path: string): Promise<Buffer> => {
    if (!validArtifactPath(path)) throw badRequest("artifact_path is invalid");
    const data = await artifactFile(emu, job.id, path);
    if (!data) throw notFound();
    return data;
  };
  // Express 5 gives a *wildcard as its segments.
  const pathParam = (req: Request) => {
    const raw = (req.params as Record<string, unknown>).artifact_path;
    return Array.isArray(raw) ? raw.join("/") : String(raw ?? "");
  };

  r.get("/projects/:id/jobs/artifacts/:ref_name/download", async (req, res) => {
    const name = jobName(req);
    sendArchive(res, await archiveOf(await byRef(req, readableProject(emu, req), name)));
  });

  r.get("/projects/:id/jobs/artifacts/:ref_name/raw/*artifact_path", async (req, res) => {
    const name = jobName(req);
    const path = pathParam(req);
    const job = await byRef(req, readableProject(emu, req), name);
    sendEntry(res, path, await entryOf(job, path));
  });

  r.get("/projects/:id/jobs/:job_id/artifacts", async (req, res) => {
    sendArchive(res, await archiveOf(byId(req, readableProject(emu, req))));
  });

  r.get("/projects/:id/jobs/:job_id/artifacts/*artifact_path", async (req, res) => {
    const path = pathParam(req);
    const job = byId(req, readableProject(emu, req));
    sendEntry(res, path, await entryOf(job, path));
  });

  return r;
}
