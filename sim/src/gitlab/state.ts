import { randomBytes } from "node:crypto";

/** Everything the emulator knows, as one plain JSON document (persisted by persistence.ts). */
export interface SimState {
  version: 1;
  nextId: { runner: number; note: number; token: number; manager: number; user: number; mergeRequest: number };
  users: SimUser[];
  groups: SimGroup[];
  projects: SimProject[];
  mergeRequests: SimMergeRequest[];
  tokens: SimToken[];
  runners: SimRunner[];
  notes: SimNote[];
  /** Pushes received over git smart HTTP (git-http.ts); absent in states written before git hosting. */
  pushEvents?: SimPushEvent[];
  /** Project memberships with a role (access.ts); absent in states written before roles. The admin needs none. */
  members?: SimMember[];
  /** Group memberships with a role (access.ts), inherited by the group's projects; absent in states written before them. */
  groupMembers?: SimGroupMember[];
}

/** A user's role in a group; a group member holds at least that role in each of the group's projects. */
export interface SimGroupMember {
  group_id: number;
  user_id: number;
  access_level: number;
  created_at: string;
}

/** A user's role in a project (Gitlab::Access): Guest 10, Reporter 20, Developer 30, Maintainer 40, Owner 50. */
export interface SimMember {
  project_id: number;
  user_id: number;
  access_level: number;
  created_at: string;
}

export interface SimUser {
  id: number;
  username: string;
  name: string;
  email: string;
  is_admin: boolean;
  created_at: string;
  /** A project or group access token's bot user (project_<id>_bot_<hex>, group_<id>_bot_<hex>); absent for people. */
  bot?: boolean;
}

export interface SimGroup {
  id: number;
  name: string;
  path: string;
}

export interface SimProject {
  id: number;
  name: string;
  path: string;
  group_id: number;
  /** The branch a new repository starts with and merge requests target by default; "main" when absent. */
  default_branch?: string;
  /** Whether instance runners may run its jobs (and are listed for it); true when absent, as GitLab defaults. */
  shared_runners_enabled?: boolean;
}

export interface SimMergeRequest {
  /** Global id (noteable_id in notes); iid is the per-project number in URLs. */
  id: number;
  project_id: number;
  iid: number;
  title: string;
  /** The fields below come with the merge-request API (routes/merge-requests.ts); absent on MRs made by older states. */
  description?: string;
  source_branch?: string;
  target_branch?: string;
  state?: "opened" | "closed" | "merged" | "locked";
  author_id?: number;
  created_at?: string;
  updated_at?: string;
  merged_at?: string | null;
  merged_by_id?: number | null;
  merge_commit_sha?: string | null;
  /** The source branch's head when merged (a merged MR keeps showing it after the branch moves or goes). */
  merged_sha?: string | null;
  closed_at?: string | null;
  closed_by_id?: number | null;
}

/** A push as GitLab's push event records it (webhook "push" payload fields); the trigger for pipelines. */
export interface SimPushEvent {
  id: number;
  object_kind: "push" | "tag_push";
  event_name: "push" | "tag_push";
  /** Full ref: refs/heads/main. */
  ref: string;
  /** 40 zeros when the ref was created. */
  before: string;
  /** 40 zeros when the ref was deleted. */
  after: string;
  checkout_sha: string | null;
  user_id: number;
  user_username: string;
  project_id: number;
  total_commits_count: number;
  created_at: string;
}

export type Scope = "api" | "read_api" | "read_user" | "create_runner" | "manage_runner" | "read_repository" | "write_repository";
export const SCOPES: readonly Scope[] = [
  "api",
  "read_api",
  "read_user",
  "create_runner",
  "manage_runner",
  "read_repository",
  "write_repository",
];

export interface SimToken {
  id: number;
  name: string;
  /** Kept in clear because the sim must hand the admin token back after a restart; the state file is mode 0600. */
  token: string;
  scopes: Scope[];
  user_id: number;
  revoked: boolean;
  /** Set on project access tokens (access-tokens.ts): the project whose bot owns it. */
  project_id?: number;
  /** Set on group access tokens (access-tokens.ts): the group whose bot owns it. */
  group_id?: number;
  description?: string | null;
  created_at?: string;
  /** YYYY-MM-DD; the token stops working on that day (401), as GitLab's expires_at does. */
  expires_at?: string | null;
}

export type RunnerType = "instance_type" | "group_type" | "project_type";
export const RUNNER_TYPES: readonly RunnerType[] = ["instance_type", "group_type", "project_type"];
export type AccessLevel = "not_protected" | "ref_protected";
export const ACCESS_LEVELS: readonly AccessLevel[] = ["not_protected", "ref_protected"];

export interface SimRunner {
  id: number;
  description: string;
  runner_type: RunnerType;
  group_id: number | null;
  project_ids: number[];
  paused: boolean;
  locked: boolean;
  run_untagged: boolean;
  tag_list: string[];
  access_level: AccessLevel;
  maximum_timeout: number | null;
  maintenance_note: string | null;
  token: string;
  token_expires_at: string | null;
  created_at: string;
  /** Last change through the API (absent: never changed since created_at); DELETE's If-Unmodified-Since compares it. */
  updated_at?: string;
  contacted_at: string | null;
  creator_id: number;
  managers: SimManager[];
}

export interface SimManager {
  id: number;
  system_id: string;
  version: string;
  revision: string;
  platform: string;
  architecture: string;
  ip_address: string;
  created_at: string;
  contacted_at: string;
  /** The executor it reported when it last asked for a job (`info.executor`); absent until then. */
  executor_type?: string;
  /** What it reported of its config.toml when it last asked for a job (sim-only `info.config` fields). */
  config?: RunnerConfigReport;
}

/**
 * The runner process's settings the sim's stand-in reports in `info.config` of a job request (GitLab
 * itself only reads `gpus` there): what the emulator needs to run the job as that runner would.
 */
export interface RunnerConfigReport {
  /** The node's host name. */
  node?: string;
  /** [[runners]] limit (0: none of its own) and the process's global concurrent. */
  limit?: number;
  concurrent?: number;
  /** [runners.docker]: volumes, default image, pull policy. */
  docker?: { volumes?: string[]; image?: string; pull_policy?: string | string[] };
}

export interface SimNote {
  id: number;
  project_id: number;
  mr_id: number;
  mr_iid: number;
  body: string;
  author_id: number;
  created_at: string;
  updated_at: string;
}

/** A personal access token in GitLab's shape: glpat- plus 20 url-safe characters. */
export function newPersonalToken(): string {
  return `glpat-${randomBytes(15).toString("base64url")}`;
}

/** A runner authentication token as the new creation workflow issues them. */
export function newRunnerToken(): string {
  return `glrt-${randomBytes(15).toString("base64url")}`;
}

/** The world on first start: one admin, one group with one project and one open merge request, and the admin token. */
export function seedState(now: Date): SimState {
  const at = now.toISOString();
  return {
    version: 1,
    nextId: { runner: 1, note: 1, token: 2, manager: 1, user: 2, mergeRequest: 2 },
    users: [{ id: 1, username: "root", name: "Administrator", email: "admin@example.com", is_admin: true, created_at: at }],
    groups: [{ id: 1, name: "pifleet", path: "pifleet" }],
    projects: [{ id: 1, name: "infra", path: "infra", group_id: 1, default_branch: "main" }],
    mergeRequests: [
      { id: 1, project_id: 1, iid: 1, title: "Simulated merge request", state: "opened", author_id: 1, created_at: at, updated_at: at },
    ],
    tokens: [
      {
        id: 1,
        name: "pifleet-sim-admin",
        token: newPersonalToken(),
        scopes: ["api", "create_runner", "manage_runner"],
        user_id: 1,
        revoked: false,
      },
    ],
    runners: [],
    notes: [],
    pushEvents: [],
  };
}
