import { deprecatedRestStatus, isOnline, managerStatus, runningJobs } from "./runner-model.js";
import type { SimManager, SimNote, SimProject, SimRunner, SimState, SimUser } from "./state.js";

/** JSON entities with GitLab's field names (lib/api/entities/ci/runner*.rb, job_basic.rb, note.rb). */

export function presentUserBasic(u: SimUser, baseUrl: string) {
  return {
    id: u.id,
    username: u.username,
    name: u.name,
    state: "active",
    locked: false,
    avatar_url: null,
    web_url: `${baseUrl}/${u.username}`,
  };
}

/** The most recently contacted manager supplies the deprecated version/revision/platform/architecture fields. */
function latestManager(r: SimRunner): SimManager | undefined {
  return [...r.managers].sort((a, b) => Date.parse(b.contacted_at) - Date.parse(a.contacted_at))[0];
}

/** Entities::Ci::Runner's `job_execution_status` (and the manager's): any running job makes it active. */
function jobExecutionStatus(state: SimState, runnerId: number, systemId?: string): "active" | "idle" {
  return runningJobs(state, runnerId, systemId).length > 0 ? "active" : "idle";
}

/**
 * List entry (Entities::Ci::Runner): ip_address is always null since GitLab 17.0; `status` is the
 * deprecated REST status (a contacted, paused runner is "paused"); `created_by` is the creator as a
 * UserBasic; name comes from the runner's own report.
 */
export function presentRunner(r: SimRunner, state: SimState, now: Date, baseUrl: string) {
  const status = deprecatedRestStatus(r, now);
  const creator = state.users.find((u) => u.id === r.creator_id);
  return {
    id: r.id,
    description: r.description,
    ip_address: null,
    active: !r.paused,
    paused: r.paused,
    is_shared: r.runner_type === "instance_type",
    runner_type: r.runner_type,
    name: r.managers.length > 0 ? "gitlab-runner" : null,
    online: isOnline(r.contacted_at, now),
    ...(creator ? { created_by: presentUserBasic(creator, baseUrl) } : {}),
    created_at: r.created_at,
    status,
    job_execution_status: jobExecutionStatus(state, r.id),
  };
}

export function presentProject(p: SimProject, state: SimState) {
  const group = state.groups.find((g) => g.id === p.group_id);
  return {
    id: p.id,
    description: null,
    name: p.name,
    name_with_namespace: `${group?.name ?? "unknown"} / ${p.name}`,
    path: p.path,
    path_with_namespace: `${group?.path ?? "unknown"}/${p.path}`,
    created_at: state.users[0]?.created_at ?? null,
  };
}

/** Detail object (Entities::Ci::RunnerDetails); maintenance_note is always there, null for callers who may not update the runner. */
export function presentRunnerDetails(r: SimRunner, state: SimState, now: Date, baseUrl: string, showNote: boolean) {
  const latest = latestManager(r);
  const projects = state.projects.filter((p) => r.project_ids.includes(p.id)).map((p) => presentProject(p, state));
  const groups = state.groups
    .filter((g) => g.id === r.group_id)
    .map((g) => ({ id: g.id, web_url: `${baseUrl}/groups/${g.path}`, name: g.name }));
  return {
    ...presentRunner(r, state, now, baseUrl),
    tag_list: [...r.tag_list],
    run_untagged: r.run_untagged,
    locked: r.locked,
    maximum_timeout: r.maximum_timeout,
    access_level: r.access_level,
    version: latest?.version ?? null,
    revision: latest?.revision ?? null,
    platform: latest?.platform ?? null,
    architecture: latest?.architecture ?? null,
    contacted_at: r.contacted_at,
    maintenance_note: showNote ? r.maintenance_note : null,
    projects,
    groups,
  };
}

export function presentManager(m: SimManager, runner: SimRunner, state: SimState, now: Date) {
  return {
    id: m.id,
    system_id: m.system_id,
    version: m.version,
    revision: m.revision,
    platform: m.platform,
    architecture: m.architecture,
    created_at: m.created_at,
    contacted_at: m.contacted_at,
    ip_address: m.ip_address,
    status: managerStatus(m, now),
    job_execution_status: jobExecutionStatus(state, runner.id, m.system_id),
  };
}

export function presentNote(n: SimNote, state: SimState, baseUrl: string) {
  const author = state.users.find((u) => u.id === n.author_id);
  return {
    id: n.id,
    type: null,
    body: n.body,
    attachment: null,
    author: author ? presentUserBasic(author, baseUrl) : null,
    created_at: n.created_at,
    updated_at: n.updated_at,
    system: false,
    noteable_id: n.mr_id,
    noteable_type: "MergeRequest",
    project_id: n.project_id,
    resolvable: false,
    confidential: false,
    internal: false,
    imported: false,
    imported_from: "none",
    noteable_iid: n.mr_iid,
    commands_changes: {},
  };
}
