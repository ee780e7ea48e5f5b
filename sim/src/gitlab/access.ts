import type { SimGroup, SimGroupMember, SimMember, SimProject, SimState, SimUser } from "./state.js";

/**
 * Roles, as Gitlab::Access numbers them, and who may do what in a project or group
 * (doc/user/permissions.md). The sim's projects and groups are private: a user who is not a member
 * does not see them (404), a member whose role is too low is refused (403). A group member holds
 * that role in each of the group's projects too (inherited membership: a group Owner is Owner of its
 * projects). The administrator is no member and may do everything.
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

export function groupMembersOf(state: SimState): SimGroupMember[] {
  state.groupMembers ??= [];
  return state.groupMembers;
}

/** The user's own role in the group; undefined for a non-member. */
export function groupLevel(state: SimState, user: SimUser, groupId: number): number | undefined {
  return state.groupMembers?.find((m) => m.group_id === groupId && m.user_id === user.id)?.access_level;
}

/** The user's role in the project: its own membership or the one inherited from the project's group, whichever is higher; undefined for a non-member. */
export function memberLevel(state: SimState, user: SimUser, projectId: number): number | undefined {
  const direct = state.members?.find((m) => m.project_id === projectId && m.user_id === user.id)?.access_level;
  const groupId = state.projects.find((p) => p.id === projectId)?.group_id;
  const inherited = groupId === undefined ? undefined : groupLevel(state, user, groupId);
  if (direct === undefined) return inherited;
  return inherited === undefined ? direct : Math.max(direct, inherited);
}

/** What a request by this user may get: the admin everything, a member what its role allows, anyone else nothing. */
export type ProjectAccess = "allowed" | "forbidden" | "not_found";

export function projectAccess(state: SimState, user: SimUser, project: SimProject, needed: number): ProjectAccess {
  if (user.is_admin) return "allowed";
  const level = memberLevel(state, user, project.id);
  if (level === undefined) return "not_found";
  return level >= needed ? "allowed" : "forbidden";
}

/**
 * The same for a group. A private group is also visible (GroupPolicy's read_group) to a member of
 * one of its projects, who is then refused (403) rather than not found.
 */
export function groupAccess(state: SimState, user: SimUser, group: SimGroup, needed: number): ProjectAccess {
  if (user.is_admin) return "allowed";
  const level = groupLevel(state, user, group.id);
  if (level === undefined) {
    const seesAProject = state.projects.some((p) => p.group_id === group.id && memberLevel(state, user, p.id) !== undefined);
    return seesAProject ? "forbidden" : "not_found";
  }
  return level >= needed ? "allowed" : "forbidden";
}

/** Whether the user holds at least this role in the project (the admin always does). */
export function hasRole(state: SimState, user: SimUser, projectId: number, needed: number): boolean {
  return user.is_admin || (memberLevel(state, user, projectId) ?? 0) >= needed;
}

/** Whether the user holds at least this role in the group (the admin always does). */
export function hasGroupRole(state: SimState, user: SimUser, groupId: number, needed: number): boolean {
  return user.is_admin || (groupLevel(state, user, groupId) ?? 0) >= needed;
}

/** Adds or changes a membership. */
export function setMember(state: SimState, member: SimMember): void {
  const members = membersOf(state);
  const held = members.find((m) => m.project_id === member.project_id && m.user_id === member.user_id);
  if (held) held.access_level = member.access_level;
  else members.push(member);
}

/** Adds or changes a group membership. */
export function setGroupMember(state: SimState, member: SimGroupMember): void {
  const members = groupMembersOf(state);
  const held = members.find((m) => m.group_id === member.group_id && m.user_id === member.user_id);
  if (held) held.access_level = member.access_level;
  else members.push(member);
}
