import { InputError } from "@pifleet/fleet";
import { GitlabHttpError } from "@pifleet/io";
import { simControl } from "../project/emulator-api.js";
import { SIM_DEFAULT_BRANCH } from "../project/layout.js";
import type { SimGitlabTarget } from "../project/target.js";
import { type ApiJob, type ApiPipeline, type PipelineView, pipelineView } from "./model.js";

/** Reads a pipeline of the sim's project through the REST API, as a person's browser would show it. */

/** The newest pipeline on the default branch (the one a push to it made). */
export async function newestPipelineId(target: SimGitlabTarget): Promise<number> {
  const { body } = await target.api.request<ApiPipeline[]>("GET", `/projects/${target.projectId}/pipelines`, {
    query: { ref: SIM_DEFAULT_BRANCH, order_by: "id", sort: "desc", per_page: 1 },
  });
  const newest = body[0];
  if (!newest) {
    throw new InputError(
      `the sim's project has no pipeline on ${SIM_DEFAULT_BRANCH} yet`,
      "Push the repository to it with `pifleet sim push` (it prints the pipeline's id).",
    );
  }
  return newest.id;
}

async function getPipeline(target: SimGitlabTarget, id: number): Promise<ApiPipeline> {
  try {
    return (await target.api.request<ApiPipeline>("GET", `/projects/${target.projectId}/pipelines/${id}`)).body;
  } catch (err) {
    if (err instanceof GitlabHttpError && err.status === 404) {
      throw new InputError(`the sim's project has no pipeline #${id}`, "Run `pifleet sim ci` without an id for the newest one.");
    }
    throw err;
  }
}

/** The emulator's own record of why a pending job waits (GitLab shows it on the job page, not in the API). */
async function stuckReason(target: SimGitlabTarget, jobId: number): Promise<string | null> {
  const job = await simControl<{ stuck_reason?: string | null }>(target, "GET", `/jobs/${jobId}`);
  return job?.stuck_reason ?? null;
}

export async function readPipelineView(target: SimGitlabTarget, id: number): Promise<PipelineView> {
  const [pipeline, jobs] = await Promise.all([
    getPipeline(target, id),
    target.api.paginate<ApiJob>(`/projects/${target.projectId}/pipelines/${id}/jobs`),
  ]);
  const pending = jobs.filter((j) => j.status === "pending");
  const reasons = new Map<number, string>();
  for (const j of pending) {
    const reason = await stuckReason(target, j.id);
    if (reason) reasons.set(j.id, reason);
  }
  return pipelineView(pipeline, jobs, target.status.nodes, reasons);
}

/** A job's log (masked values already `[MASKED]`); empty before any output. */
export async function readTrace(target: SimGitlabTarget, jobId: number): Promise<string> {
  const { body } = await target.api.request<string | null>("GET", `/projects/${target.projectId}/jobs/${jobId}/trace`);
  return body ?? "";
}
