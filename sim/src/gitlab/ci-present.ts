import {
  type CiStatus,
  COMPLETED_STATUSES,
  ciState,
  compositeStatus,
  type SimCiJob,
  type SimPipeline,
  type SimVariable,
} from "./ci-state.js";
import type { Emulator } from "./context.js";
import { presentManager, presentProject, presentRunner, presentUserBasic } from "./present.js";

/** JSON entities with GitLab's field names: lib/api/entities/ci/{variable,pipeline_basic,pipeline,job_basic,job}.rb. */

/** Entities::Ci::Variable. */
export function presentVariable(v: SimVariable) {
  return {
    variable_type: v.variable_type,
    key: v.key,
    value: v.hidden ? null : v.value,
    hidden: v.hidden,
    protected: v.protected,
    masked: v.masked,
    raw: v.raw,
    environment_scope: v.environment_scope,
    description: v.description,
  };
}

const seconds = (from: string | null, to: string | null) => (from && to ? (Date.parse(to) - Date.parse(from)) / 1000 : null);
const isCompleted = (s: CiStatus) => COMPLETED_STATUSES.includes(s);

function projectPath(emu: Emulator, projectId: number): string {
  const project = emu.state.projects.find((p) => p.id === projectId);
  return project ? presentProject(project, emu.state).path_with_namespace : "unknown";
}

/** What a pipeline's jobs make of it: status, and the start and end of its run. */
export function pipelineFacts(emu: Emulator, p: SimPipeline) {
  const jobs = ciState(emu.state).jobs.filter((j) => j.pipeline_id === p.id);
  // A configuration error fails the pipeline before it has any job (Gitlab::Ci::Pipeline::Chain::Config); [skip ci] skips it.
  const status = p.yaml_errors ? "failed" : p.skipped ? "skipped" : compositeStatus(jobs);
  const starts = jobs.flatMap((j) => (j.started_at ? [j.started_at] : [])).sort();
  const ends = jobs.flatMap((j) => (j.finished_at ? [j.finished_at] : [])).sort();
  const startedAt = starts[0] ?? null;
  const finishedAt = isCompleted(status) ? (ends.at(-1) ?? p.updated_at) : null;
  return { jobs, status, startedAt, finishedAt };
}

/** Entities::Ci::PipelineBasic (list entries, and the pipeline inside a job). */
export function presentPipelineBasic(emu: Emulator, p: SimPipeline) {
  return {
    id: p.id,
    iid: p.iid,
    project_id: p.project_id,
    sha: p.sha,
    ref: p.ref,
    status: pipelineFacts(emu, p).status,
    source: p.source,
    created_at: p.created_at,
    updated_at: p.updated_at,
    web_url: `${emu.baseUrl()}/${projectPath(emu, p.project_id)}/-/pipelines/${p.id}`,
    name: null,
  };
}

/** detailed_status text and label (Gitlab::Ci::Status::*): the status itself, capitalized, but for these. */
const DETAILED_OVERRIDES: Partial<Record<CiStatus, { text: string; label: string }>> = {
  success: { text: "Passed", label: "passed" },
  waiting_for_resource: { text: "Waiting", label: "waiting for resource" },
  waiting_for_callback: { text: "Waiting", label: "waiting for callback" },
  manual: { text: "Manual", label: "manual action" },
};
const detailed = (s: CiStatus) => DETAILED_OVERRIDES[s] ?? { text: s.charAt(0).toUpperCase() + s.slice(1), label: s };

/** Entities::Ci::Pipeline (GET /projects/:id/pipelines/:pipeline_id). */
export function presentPipeline(emu: Emulator, p: SimPipeline) {
  const facts = pipelineFacts(emu, p);
  const user = emu.state.users.find((u) => u.id === p.user_id);
  const path = `/${projectPath(emu, p.project_id)}/-/pipelines/${p.id}`;
  const icon = facts.status === "success" ? "status_success" : `status_${facts.status}`;
  const ran = seconds(facts.startedAt, facts.startedAt ? (facts.finishedAt ?? emu.now().toISOString()) : null);
  return {
    ...presentPipelineBasic(emu, p),
    before_sha: p.before_sha,
    tag: p.tag,
    yaml_errors: p.yaml_errors ?? null,
    user: user ? presentUserBasic(user, emu.baseUrl()) : null,
    started_at: facts.startedAt,
    finished_at: facts.finishedAt,
    committed_at: null,
    duration: ran === null ? null : Math.round(ran),
    queued_duration: seconds(p.created_at, facts.startedAt),
    coverage: null,
    detailed_status: {
      icon,
      text: detailed(facts.status).text,
      label: detailed(facts.status).label,
      group: facts.status,
      tooltip: detailed(facts.status).label,
      has_details: true,
      details_path: path,
      illustration: null,
      favicon: `/assets/ci_favicons/favicon_${icon}.png`,
    },
  };
}

function presentCommit(emu: Emulator, p: SimPipeline | undefined, createdAt: string) {
  const sha = p?.sha ?? "0".repeat(40);
  const admin = emu.state.users.find((u) => u.is_admin);
  return {
    id: sha,
    short_id: sha.slice(0, 8),
    created_at: createdAt,
    parent_ids: [],
    title: `Commit ${sha.slice(0, 8)}`,
    message: `Commit ${sha.slice(0, 8)}`,
    author_name: admin?.name ?? "Administrator",
    author_email: admin?.email ?? "admin@example.com",
    authored_date: createdAt,
    committer_name: admin?.name ?? "Administrator",
    committer_email: admin?.email ?? "admin@example.com",
    committed_date: createdAt,
    web_url: `${emu.baseUrl()}/${projectPath(emu, p?.project_id ?? 0)}/-/commit/${sha}`,
  };
}

/** Entities::Ci::JobBasic: what every job list shows. */
export function presentJobBasic(emu: Emulator, j: SimCiJob) {
  const pipeline = ciState(emu.state).pipelines.find((p) => p.id === j.pipeline_id);
  const user = pipeline ? emu.state.users.find((u) => u.id === pipeline.user_id) : undefined;
  const until = j.finished_at ?? (j.started_at ? emu.now().toISOString() : null);
  return {
    id: j.id,
    status: j.status,
    stage: j.stage,
    name: j.name,
    ref: pipeline?.ref ?? "",
    tag: pipeline?.tag ?? false,
    coverage: null,
    allow_failure: j.allow_failure,
    created_at: j.created_at,
    started_at: j.started_at,
    finished_at: j.finished_at,
    erased_at: null,
    duration: seconds(j.started_at, until),
    queued_duration: seconds(j.queued_at, j.started_at ?? (j.queued_at ? emu.now().toISOString() : null)),
    user: user ? { ...presentUserBasic(user, emu.baseUrl()), created_at: user.created_at } : null,
    commit: presentCommit(emu, pipeline, j.created_at),
    pipeline: pipeline ? presentPipelineBasic(emu, pipeline) : null,
    ...(j.status === "failed" ? { failure_reason: j.failure_reason ?? "unknown_failure" } : {}),
    web_url: `${emu.baseUrl()}/${projectPath(emu, j.project_id)}/-/jobs/${j.id}`,
    project: { ci_job_token_scope_enabled: false },
  };
}

/** Entities::Ci::JobBasicWithProject (GET /runners/:id/jobs). */
export function presentJobWithProject(emu: Emulator, j: SimCiJob) {
  const project = emu.state.projects.find((p) => p.id === j.project_id);
  return { ...presentJobBasic(emu, j), project: project ? presentProject(project, emu.state) : null };
}

/** Entities::Ci::Job (project job endpoints): JobBasic plus runner, runner_manager, artifacts, tag_list. */
export function presentJob(emu: Emulator, j: SimCiJob) {
  const runner = j.runner_id === null ? undefined : emu.state.runners.find((r) => r.id === j.runner_id);
  const manager = runner?.managers.find((m) => m.system_id === j.system_id);
  const now = emu.now();
  return {
    ...presentJobBasic(emu, j),
    artifacts: [],
    runner: runner ? presentRunner(runner, emu.state, now, emu.baseUrl()) : null,
    runner_manager: runner && manager ? presentManager(manager, runner, emu.state, now) : null,
    artifacts_expire_at: null,
    archived: false,
    tag_list: [...j.tag_list],
  };
}
