import { hasGroupRole, hasRole, MAINTAINER, OWNER } from "./access.js";
import { ciState, type SimCiJob } from "./ci-state.js";
import type { AccessLevel, SimManager, SimRunner, SimState, SimUser } from "./state.js";

/**
 * GitLab's runner status rules (doc/ci/runners/runners_scope.md, app/models/ci/runner.rb):
 * online = contacted within the last 2 hours; offline = not contacted for more than 2 hours;
 * stale = no contact for more than 7 days, or created more than 7 days ago and never contacted;
 * never_contacted = never contacted (and not yet stale). Stale wins over the others.
 */
export const ONLINE_CONTACT_TIMEOUT_MS = 2 * 60 * 60 * 1000;
export const STALE_TIMEOUT_MS = 7 * 24 * 60 * 60 * 1000;

export type RunnerStatus = "online" | "offline" | "stale" | "never_contacted";
export const RUNNER_STATUSES: readonly RunnerStatus[] = ["online", "offline", "stale", "never_contacted"];
/** Filter values the status parameter accepts: the four statuses plus the deprecated active/paused. */
export const STATUS_FILTERS = [...RUNNER_STATUSES, "active", "paused"] as const;
export type StatusFilter = (typeof STATUS_FILTERS)[number];

const ms = (iso: string | null) => (iso ? Date.parse(iso) : undefined);

export function isOnline(contactedAt: string | null, now: Date): boolean {
  const contacted = ms(contactedAt);
  return contacted !== undefined && contacted > now.getTime() - ONLINE_CONTACT_TIMEOUT_MS;
}

export function isStale(createdAt: string, contactedAt: string | null, now: Date): boolean {
  const last = Math.max(Date.parse(createdAt), ms(contactedAt) ?? 0);
  return last <= now.getTime() - STALE_TIMEOUT_MS;
}

export function runnerStatus(r: Pick<SimRunner, "created_at" | "contacted_at">, now: Date): RunnerStatus {
  if (isStale(r.created_at, r.contacted_at, now)) return "stale";
  if (!r.contacted_at) return "never_contacted";
  return isOnline(r.contacted_at, now) ? "online" : "offline";
}

/**
 * The `status` GitLab's REST runner entities still return (Ci::Runner#deprecated_rest_status):
 * like runnerStatus, except that a contacted runner that is paused reports "paused".
 */
export function deprecatedRestStatus(r: Pick<SimRunner, "created_at" | "contacted_at" | "paused">, now: Date): RunnerStatus | "paused" {
  const status = runnerStatus(r, now);
  return r.paused && (status === "online" || status === "offline") ? "paused" : status;
}

export function managerStatus(m: SimManager, now: Date): RunnerStatus {
  return runnerStatus(m, now);
}

export interface RunnerFilters {
  type?: SimRunner["runner_type"];
  status?: StatusFilter;
  paused?: boolean;
  tagList?: string[];
  versionPrefix?: string;
}

/**
 * The status filter follows GitLab's scopes, which overlap: `offline` is "contacted, but not in the
 * last 2 hours" and so includes stale runners that were once contacted; `never_contacted` includes
 * never-contacted runners that are also stale.
 */
function matchesStatus(r: SimRunner, status: StatusFilter, now: Date): boolean {
  switch (status) {
    case "online":
      return isOnline(r.contacted_at, now);
    case "offline":
      return r.contacted_at !== null && !isOnline(r.contacted_at, now);
    case "never_contacted":
      return r.contacted_at === null;
    case "stale":
      return isStale(r.created_at, r.contacted_at, now);
    case "active":
      return !r.paused;
    case "paused":
      return r.paused;
  }
}

export function matchesFilters(r: SimRunner, f: RunnerFilters, now: Date): boolean {
  if (f.type && r.runner_type !== f.type) return false;
  if (f.status && !matchesStatus(r, f.status, now)) return false;
  if (f.paused !== undefined && r.paused !== f.paused) return false;
  if (f.tagList?.some((t) => !r.tag_list.includes(t))) return false;
  if (f.versionPrefix !== undefined && !r.managers.some((m) => m.version.startsWith(f.versionPrefix ?? ""))) return false;
  return true;
}

/**
 * The runners a list endpoint can show, in id order. The admin owns every group and project; other
 * users own group runners of groups they own and project runners of projects they maintain.
 */
export function runnersInScope(
  state: SimState,
  scope: { kind: "owned"; user: SimUser } | { kind: "all" } | { kind: "group"; groupId: number } | { kind: "project"; projectId: number },
): SimRunner[] {
  const byId = (a: SimRunner, b: SimRunner) => a.id - b.id;
  switch (scope.kind) {
    case "all":
      return [...state.runners].sort(byId);
    case "owned":
      // Owned = group runners of groups the user owns and project runners of projects they maintain; never instance runners.
      return state.runners.filter((r) => r.runner_type !== "instance_type" && canManageRunner(state, scope.user, r)).sort(byId);
    case "group":
      // The group's runners plus the instance runners it may use.
      return state.runners.filter((r) => r.runner_type === "instance_type" || r.group_id === scope.groupId).sort(byId);
    case "project": {
      // Ci::Runner.owned_or_instance_wide: instance runners only while the project has shared runners enabled.
      const project = state.projects.find((p) => p.id === scope.projectId);
      const groupId = project?.group_id;
      const sharedRunners = project?.shared_runners_enabled ?? true;
      return state.runners
        .filter(
          (r) =>
            (r.runner_type === "instance_type" && sharedRunners) ||
            (r.runner_type === "group_type" && r.group_id === groupId) ||
            (r.runner_type === "project_type" && r.project_ids.includes(scope.projectId)),
        )
        .sort(byId);
    }
  }
}

/**
 * Who may read a runner ("at least the Maintainer role … at the project and group level"): any
 * signed-in user for instance runners, a group's Maintainer for its group runners, and those who may
 * manage it.
 */
export function canReadRunner(state: SimState, user: SimUser, r: SimRunner): boolean {
  if (r.runner_type === "instance_type") return true;
  if (r.runner_type === "group_type" && r.group_id !== null && hasGroupRole(state, user, r.group_id, MAINTAINER)) return true;
  return canManageRunner(state, user, r);
}

/**
 * Who may update, delete or reset a runner (admin_runner): the admin; for a group runner, an Owner of
 * its group; for a project runner, a Maintainer of the project that owns it (its first project) —
 * also by inheritance, as a Maintainer or Owner of that project's group.
 */
export function canManageRunner(state: SimState, user: SimUser, r: SimRunner): boolean {
  if (user.is_admin) return true;
  if (r.runner_type === "group_type") return r.group_id !== null && hasGroupRole(state, user, r.group_id, OWNER);
  const owner = r.runner_type === "project_type" ? r.project_ids[0] : undefined;
  return owner !== undefined && hasRole(state, user, owner, MAINTAINER);
}

export interface RunnerAttrs {
  description?: string;
  paused?: boolean;
  locked?: boolean;
  run_untagged?: boolean;
  tag_list?: string[];
  access_level?: AccessLevel;
  maximum_timeout?: number | null;
  maintenance_note?: string;
}

/** ActiveRecord validations of Ci::Runner that a client can trip, with GitLab's messages. */
export function runnerValidationErrors(
  r: Pick<SimRunner, "run_untagged" | "tag_list" | "maximum_timeout" | "maintenance_note" | "description">,
): Record<string, string[]> {
  const errors: Record<string, string[]> = {};
  const add = (field: string, message: string) => {
    errors[field] = [...(errors[field] ?? []), message];
  };
  if (!r.run_untagged && r.tag_list.length === 0) add("tags_list", "can not be empty when runner is not allowed to pick untagged jobs");
  if (r.maximum_timeout !== null && r.maximum_timeout < 600) add("maximum_timeout", "needs to be at least 10 minutes");
  if (r.maintenance_note !== null && r.maintenance_note.length > 1024) add("maintenance_note", "is too long (maximum is 1024 characters)");
  if (r.description.length > 1024) add("description", "is too long (maximum is 1024 characters)");
  for (const tag of r.tag_list) if (tag.length > 255) add("tag_list", `tag "${tag.slice(0, 20)}…" is too long (maximum is 255 characters)`);
  return errors;
}

export function runningJobs(state: SimState, runnerId: number, systemId?: string): SimCiJob[] {
  return ciState(state).jobs.filter(
    (j) => j.runner_id === runnerId && j.status === "running" && (systemId === undefined || j.system_id === systemId),
  );
}

/** Rails' errors.full_messages.to_sentence: "Tags list can not be …" / "A and B" / "A, B, and C". */
export function fullMessages(errors: Record<string, string[]>): string {
  const humanize = (field: string) => field.charAt(0).toUpperCase() + field.slice(1).replaceAll("_", " ");
  const messages = Object.entries(errors).flatMap(([field, list]) => list.map((m) => `${humanize(field)} ${m}`));
  if (messages.length <= 2) return messages.join(" and ");
  return `${messages.slice(0, -1).join(", ")}, and ${messages.at(-1)}`;
}
