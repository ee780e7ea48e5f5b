import { afterAll, beforeAll } from "vitest";
import { controlHeaders } from "../control-secret.js";
import { type JobExecutor, startGitlabEmulator } from "../index.js";

/**
 * Where the contract tests send their requests. With GITLAB_URL and GITLAB_TOKEN set they run
 * against that real GitLab (an admin token with scopes api, create_runner, manage_runner; plus
 * GITLAB_GROUP_ID, GITLAB_PROJECT_ID and GITLAB_MR_IID naming an existing group, project and open
 * merge request); otherwise against the emulator started in-process on 127.0.0.1, port 0.
 */
export const REAL_GITLAB = Boolean(process.env.GITLAB_URL && process.env.GITLAB_TOKEN);
export const NEEDS_CONTROL = REAL_GITLAB ? " (skipped: needs the emulator's control API, not available on a real GitLab)" : "";

export interface Target {
  url: string;
  token: string;
  groupId: number;
  projectId: number;
  mrIid: number;
  real: boolean;
  /** The emulator's control secret (absent on a real GitLab, which has no control API). */
  controlSecret?: string;
  close(): Promise<void>;
}

function requiredEnvNumber(name: string): number {
  const value = Number(process.env[name]);
  if (!Number.isInteger(value) || value <= 0) {
    throw new Error(`${name} must be set to an existing id when the contract tests run against a real GitLab (GITLAB_URL is set)`);
  }
  return value;
}

async function startTarget(executor?: JobExecutor): Promise<Target> {
  if (REAL_GITLAB) {
    return {
      url: (process.env.GITLAB_URL ?? "").replace(/\/+$/, ""),
      token: process.env.GITLAB_TOKEN ?? "",
      groupId: requiredEnvNumber("GITLAB_GROUP_ID"),
      projectId: requiredEnvNumber("GITLAB_PROJECT_ID"),
      mrIid: requiredEnvNumber("GITLAB_MR_IID"),
      real: true,
      close: async () => {},
    };
  }
  return startEmulatorTarget(executor);
}

/** The in-process emulator, whatever the environment says (for tests of the emulator itself). */
async function startEmulatorTarget(executor?: JobExecutor): Promise<Target> {
  const emulator = await startGitlabEmulator({ host: "127.0.0.1", port: 0, executor });
  return { ...emulator, token: emulator.adminToken, mrIid: 1, real: false };
}

export interface Reply {
  status: number;
  headers: Headers;
  /** Parsed JSON when the answer is JSON, else the text (empty for 204). */
  body: unknown;
}

export interface CallOptions {
  /** PRIVATE-TOKEN to send; default the target's admin token; null sends none. */
  token?: string | null;
  headers?: Record<string, string>;
  /** Sent as JSON. */
  body?: unknown;
  /** Sent form-encoded instead, as curl -d does. */
  form?: Record<string, string>;
}

/** Plain fetch: the thing under test is GitLab's HTTP contract, not a client library. */
export async function call(target: Target, method: string, path: string, options: CallOptions = {}): Promise<Reply> {
  const headers: Record<string, string> = { ...options.headers };
  const token = options.token === undefined ? target.token : options.token;
  if (token !== null) headers["PRIVATE-TOKEN"] = token;
  let body: string | undefined;
  if (options.body !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(options.body);
  } else if (options.form) {
    headers["content-type"] = "application/x-www-form-urlencoded";
    body = new URLSearchParams(options.form).toString();
  }
  const res = await fetch(`${target.url}/api/v4${path}`, { method, headers, body });
  const text = await res.text();
  const isJson = (res.headers.get("content-type") ?? "").includes("json") && text.length > 0;
  return { status: res.status, headers: res.headers, body: isJson ? JSON.parse(text) : text };
}

/** The emulator's control API; only called from tests that are skipped on a real GitLab. */
export async function control(target: Target, method: string, path: string, body?: unknown): Promise<unknown> {
  if (target.real) throw new Error("control API called against a real GitLab; mark the test with NEEDS_CONTROL / skipIf(REAL_GITLAB)");
  const res = await fetch(`${target.url}/-/sim${path}`, {
    method,
    headers: { ...controlHeaders(target.controlSecret ?? ""), ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`control ${method} ${path}: HTTP ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/** A personal access token with exactly these scopes (admin-owned unless admin is false). */
export async function mintToken(target: Target, scopes: string[], admin = true): Promise<string> {
  const minted = (await control(target, "POST", "/tokens", { scopes, admin })) as { token: string };
  return minted.token;
}

/** Creates runners and remembers them, so afterAll can delete what the test made (matters on a real GitLab). */
export class RunnerFixtures {
  private readonly ids: number[] = [];
  constructor(private readonly target: Target) {}

  async create(fields: Record<string, unknown>): Promise<{ id: number; token: string; token_expires_at: string | null }> {
    const reply = await call(this.target, "POST", "/user/runners", { body: fields });
    if (reply.status !== 201) throw new Error(`creating a runner failed: HTTP ${reply.status} ${JSON.stringify(reply.body)}`);
    const created = reply.body as { id: number; token: string; token_expires_at: string | null };
    this.ids.push(created.id);
    return created;
  }

  async group(fields: Record<string, unknown> = {}) {
    return this.create({ runner_type: "group_type", group_id: this.target.groupId, ...fields });
  }

  async cleanup(): Promise<void> {
    for (const id of this.ids.splice(0)) await call(this.target, "DELETE", `/runners/${id}`);
  }
}

/**
 * A test file's target and runner fixtures: started before its tests, the runners it created
 * deleted and the target closed after them. The returned objects are filled in by beforeAll, so
 * use them inside tests and hooks (hooks registered after this call see them ready).
 * emulator: the in-process emulator whatever the environment says (tests of the emulator itself).
 * executor: what runs the jobs runners take on the emulator (a real GitLab has its own runners).
 */
export function useContractTarget(options: { emulator?: boolean; executor?: JobExecutor } = {}): {
  target: Target;
  runners: RunnerFixtures;
} {
  const target = {} as Target;
  const runners = new RunnerFixtures(target);
  let started: Target | undefined;
  beforeAll(async () => {
    started = await (options.emulator ? startEmulatorTarget(options.executor) : startTarget(options.executor));
    Object.assign(target, started);
  });
  afterAll(async () => {
    if (!started) return;
    await runners.cleanup();
    await started.close();
  });
  return { target, runners };
}
