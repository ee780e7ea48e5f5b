import type { Secret } from "@pifleet/io";
import type { AccessLevel, RunnerScope, RunnerStatus } from "./types.js";

/** The GitLab calls runner-manager makes, in its own terms. One real client (gitbeaker) and an in-memory fake implement it. */

export interface RunnerSummary {
  id: number;
  description: string;
  paused: boolean;
  status: RunnerStatus;
}

export interface RunnerDetail extends RunnerSummary {
  tags: string[];
  maintenanceNote: string;
  runUntagged: boolean;
  accessLevel: AccessLevel;
}

export interface RunnerSpec {
  description: string;
  tags: string[];
  runUntagged: boolean;
  accessLevel: AccessLevel;
  maintenanceNote: string;
}

export interface IssuedToken {
  token: Secret;
  expiresAt: Date | null;
}

export interface RunnerChanges {
  tags?: string[];
  description?: string;
  runUntagged?: boolean;
  accessLevel?: AccessLevel;
  paused?: boolean;
  maintenanceNote?: string;
}

export interface GitlabApi {
  readonly scope: RunnerScope;
  /** Every runner in the scope, paged 100 at a time; `tags` keeps only runners having all of them. */
  listRunners(filter?: { tags?: string[] }): Promise<RunnerSummary[]>;
  /** undefined when GitLab says 404. */
  getRunner(id: number): Promise<RunnerDetail | undefined>;
  /** POST /user/runners with the API token: authentication tokens only, never a registration token. */
  createRunner(spec: RunnerSpec): Promise<{ id: number } & IssuedToken>;
  updateRunner(id: number, changes: RunnerChanges): Promise<void>;
  /** Deleting a runner that is already gone succeeds. */
  deleteRunner(id: number): Promise<void>;
  resetToken(id: number): Promise<IssuedToken>;
  /** Ids of the runner's running jobs. */
  runningJobs(id: number): Promise<number[]>;
  /**
   * POST /runners/verify: is this the runner's live authentication token? (200 yes, 403 no.) GitLab counts the call
   * as a contact of the manager `systemId` (without one, of the manager it calls "<legacy>").
   */
  verifyToken(token: Secret, systemId?: string): Promise<boolean>;
}

export function toDate(value: unknown): Date | null {
  if (typeof value !== "string" || value === "") return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
}
