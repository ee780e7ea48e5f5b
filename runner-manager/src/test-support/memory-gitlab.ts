import { Secret } from "@pifleet/io";
import type { GitlabApi, IssuedToken, RunnerChanges, RunnerDetail, RunnerSpec, RunnerSummary } from "../gitlab-api.js";
import type { RunnerScope } from "../types.js";

/**
 * An in-memory GitLab for fast unit tests of plan/apply logic. The gitbeaker
 * client is tested against the sim's GitLab emulator; this fake keeps the
 * same contract (404 = undefined, delete of a missing runner succeeds).
 */
export class MemoryGitlab implements GitlabApi {
  readonly runners = new Map<number, RunnerDetail & { token: string }>();
  readonly jobs = new Map<number, number[]>();
  readonly calls: string[] = [];
  private nextId = 1;
  private tokenSeq = 1;

  constructor(readonly scope: RunnerScope = { type: "project_type", id: 1 }) {}

  private issue(): string {
    return `glrt-memory${String(this.tokenSeq++).padStart(12, "0")}`;
  }

  /** What a person does in the UI. */
  addForeign(description: string, note = ""): number {
    const id = this.nextId++;
    this.runners.set(id, {
      id,
      description,
      paused: false,
      status: "online",
      tags: [],
      maintenanceNote: note,
      runUntagged: true,
      accessLevel: "not_protected",
      token: this.issue(),
    });
    return id;
  }

  async listRunners(filter: { tags?: string[] } = {}): Promise<RunnerSummary[]> {
    this.calls.push(`list${filter.tags ? `?tags=${filter.tags.join(",")}` : ""}`);
    return [...this.runners.values()]
      .filter((r) => (filter.tags ?? []).every((t) => r.tags.includes(t)))
      .map(({ id, description, paused, status }) => ({ id, description, paused, status }));
  }

  async getRunner(id: number): Promise<RunnerDetail | undefined> {
    this.calls.push(`get ${id}`);
    const r = this.runners.get(id);
    if (!r) return undefined;
    const { token: _t, ...detail } = r;
    return { ...detail, tags: [...detail.tags] };
  }

  async createRunner(spec: RunnerSpec): Promise<{ id: number } & IssuedToken> {
    this.calls.push(`create ${spec.description}`);
    const id = this.nextId++;
    const token = this.issue();
    this.runners.set(id, { id, paused: false, status: "never_contacted", ...spec, tags: [...spec.tags].sort(), token });
    return { id, token: new Secret(token), expiresAt: null };
  }

  async updateRunner(id: number, changes: RunnerChanges): Promise<void> {
    this.calls.push(`update ${id}`);
    const r = this.runners.get(id);
    if (!r) throw new Error(`404 runner ${id}`);
    if (changes.tags) r.tags = [...changes.tags].sort();
    if (changes.description !== undefined) r.description = changes.description;
    if (changes.paused !== undefined) r.paused = changes.paused;
    if (changes.runUntagged !== undefined) r.runUntagged = changes.runUntagged;
    if (changes.accessLevel !== undefined) r.accessLevel = changes.accessLevel;
    if (changes.maintenanceNote !== undefined) r.maintenanceNote = changes.maintenanceNote;
  }

  async deleteRunner(id: number): Promise<void> {
    this.calls.push(`delete ${id}`);
    this.runners.delete(id);
  }

  async resetToken(id: number): Promise<IssuedToken> {
    this.calls.push(`reset ${id}`);
    const r = this.runners.get(id);
    if (!r) throw new Error(`404 runner ${id}`);
    r.token = this.issue();
    return { token: new Secret(r.token), expiresAt: new Date("2030-01-01T00:00:00Z") };
  }

  async runningJobs(id: number): Promise<number[]> {
    this.calls.push(`jobs ${id}`);
    return this.jobs.get(id) ?? [];
  }

  async verifyToken(token: Secret, _systemId?: string): Promise<boolean> {
    const r = [...this.runners.values()].find((x) => x.token === token.reveal());
    this.calls.push(`verify ${r ? r.id : "unknown"}`);
    return r !== undefined;
  }

  writes(): string[] {
    return this.calls.filter((c) => /^(create|update|delete|reset)/.test(c));
  }
}
