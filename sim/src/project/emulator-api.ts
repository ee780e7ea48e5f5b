import { OperationError } from "@pifleet/fleet";
import { GitlabHttpError, gitlabTransport, Secret, sleep } from "@pifleet/io";
import { controlHeaders } from "../gitlab/control-secret.js";
import type { SimGitlabTarget } from "./target.js";
import type { ExistingVariable } from "./variables.js";

/** The emulator's control API, with its control secret (control-secret.ts). */
export async function simControl<T>(target: SimGitlabTarget, method: string, path: string, body?: unknown): Promise<T | undefined> {
  const res = await fetch(`${target.url}/-/sim${path}`, {
    method,
    headers: { ...controlHeaders(target.controlSecret.reveal()), ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) {
    throw new OperationError(
      `the GitLab emulator's ${method} /-/sim${path} answered ${res.status}`,
      "Is this emulator older than this pifleet? Recreate the sim (`pifleet sim down`, `pifleet sim up`).",
    );
  }
  return res.status === 204 ? undefined : ((await res.json()) as T);
}

export interface MintedToken {
  id: number;
  token: Secret;
}

/** A personal access token of the emulator's admin with these scopes (GitLab: Settings → Access tokens). */
export async function mintToken(target: SimGitlabTarget, name: string, scopes: string[]): Promise<MintedToken> {
  const made = await simControl<{ id: number; token: string }>(target, "POST", "/tokens", { name, scopes });
  if (!made) throw new OperationError("the GitLab emulator minted no token");
  return { id: made.id, token: new Secret(made.token) };
}

export async function revokeToken(target: SimGitlabTarget, id: number): Promise<void> {
  await simControl(target, "POST", `/tokens/${id}/revoke`);
}

/** Whether a token still authenticates (a sim recreated since, or a revoked token, does not). */
async function tokenWorks(target: SimGitlabTarget, token: string): Promise<boolean> {
  try {
    await gitlabTransport({ url: target.url, auth: { header: "PRIVATE-TOKEN", token: new Secret(token) } }).request("GET", "/user");
    return true;
  } catch (err) {
    if (err instanceof GitlabHttpError && (err.status === 401 || err.status === 403)) return false;
    throw err;
  }
}

/**
 * The token a variable should hold: the one it holds when that still works (so a second push changes
 * nothing), else a new `api` token. The variables are the only record of these tokens.
 */
export async function tokenFor(target: SimGitlabTarget, existing: readonly ExistingVariable[], key: string): Promise<Secret> {
  const held = existing.find((v) => v.key === key)?.value;
  if (held && (await tokenWorks(target, held))) return new Secret(held);
  return (await mintToken(target, `pifleet sim ${key}`, ["api"])).token;
}

/** Entities::Ci::PipelineBasic. */
export interface PipelineBasic {
  id: number;
  iid: number;
  sha: string;
  ref: string;
  status: string;
  source: string;
  web_url: string;
  created_at: string;
}

/**
 * The pipeline GitLab made for a pushed commit. The emulator evaluates the configuration with
 * gitlab-ci-local after the push has answered, so it appears a few seconds later; none after
 * `waitMs` is a legitimate answer (workflow rules may create no pipeline). By sha alone: a push to a
 * branch with an open merge request makes a merge-request pipeline, whose ref is refs/merge-requests/….
 */
export async function waitForPipeline(target: SimGitlabTarget, sha: string, waitMs: number): Promise<PipelineBasic | null> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const { body } = await target.api.request<PipelineBasic[]>("GET", `/projects/${target.projectId}/pipelines`, {
      query: { sha, per_page: 1 },
    });
    if (body[0]) return body[0];
    if (Date.now() >= deadline) return null;
    await sleep(500);
  }
}
