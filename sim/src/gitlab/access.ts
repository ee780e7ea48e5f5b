import type { SimMember, SimProject, SimState, SimUser } from "./state.js";

/**
 * Roles, as Gitlab::Access numbers them, and who may do what in a project (doc/user/permissions.md).
 * The sim's projects are private: a user who is not a member does not see them (404), a member
 * whose role is too low is refused (403). The administrator is no member and may do everything.
 */
export const GUEST = 10;
export const REPORTER = 20;
export const DEVELOPER = 30;
export const MAINTAINER = 40;
export const OWNER = 50;
export const ACCESS_LEVEL_VALUES: readonly number[] = [GUEST, REPORTER, DEVELOPER, MAINTAINER, OWNER];

const ROLE_NAMES: Record<number, string> = { 10: "guest", 20: "reporter", 30: "developer", 40: "maintainer", 50: "owner" };

/** "maintainer" for 40, as Gitlab::Access.human_access(…).downcase words it. */
export function roleName(level: number): string {
  return ROLE_NAMES[level] ?? `access level ${level}`;
}

export function membersOf(state: SimState): SimMember[] {
  state.members ??= [];
  return state.members;
}

/** The user's role in the project; undefined for a non-member. */
export function memberLevel(state: SimState, user: SimUser, projectId: number): number | undefined {
  return state.members?.find((m) => m.project_id === projectId && m.user_id === user.id)?.access_level;
}

/** What a request by this user may get: the admin everything, a member what its role allows, anyone else nothing. */
export type ProjectAccess = "allowed" | "forbidden" | "not_found";

export function projectAccess(state: SimState, user: SimUser, project: SimProject, needed: number): ProjectAccess {
  if (user.is_admin) return "allowed";
  const level = memberLevel(state, user, project.id);
  if (level === undefined) return "not_found";
  return level >= needed ? "allowed" : "forbidden";
}

/** Whether the user holds at least this role in the project (the admin always does). */
export function hasRole(state: SimState, user: SimUser, projectId: number, needed: number): boolean {
  return user.is_admin || (memberLevel(state, user, projectId) ?? 0) >= needed;
}

/** Adds or changes a membership. */
export function setMember(state: SimState, member: SimMember): void {
  const members = membersOf(state);
  const held = members.find((m) => m.project_id === member.project_id && m.user_id === member.user_id);
  if (held) held.access_level = member.access_level;
  else members.push(member);
}
