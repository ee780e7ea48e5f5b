import { Runners, Users } from "@gitbeaker/core";
import { createRequesterFn, type ResourceOptions } from "@gitbeaker/requester-utils";
import type { GitlabApi, IssuedToken, RunnerChanges, RunnerDetail, RunnerSpec, RunnerSummary } from "./gitlab-api.js";
import { toDate } from "./gitlab-api.js";
import {
  DEFAULT_RETRY,
  GitlabHttpError,
  GitlabNetworkError,
  parseRetryAfter,
  type RetryHooks,
  type RetryPolicy,
  withRetry,
} from "./retry.js";
import { Secret, scrubTokens } from "./secret.js";
import type { AccessLevel, RunnerScope, RunnerStatus } from "./types.js";

/**
 * GitlabApi over gitbeaker's resource classes (URLs, pagination, key casing)
 * with pifleet's own transport underneath: one fetch per try, retries with
 * Retry-After, errors that name the call but never carry the token.
 */

export interface ClientOptions {
  url: string;
  token: Secret;
  scope: RunnerScope;
  retry?: RetryPolicy;
  hooks?: RetryHooks;
  /** Per-request timeout. */
  timeoutMs?: number;
}

type Json = Record<string, unknown>;

function transport(options: ClientOptions) {
  const policy = options.retry ?? DEFAULT_RETRY;
  return async (endpoint: string, req: Record<string, unknown> = {}) => {
    const method = String(req.method ?? "GET");
    const base = String(req.prefixUrl ?? "");
    const url = new URL(endpoint, base.endsWith("/") ? base : `${base}/`);
    url.search = typeof req.searchParams === "string" ? req.searchParams : "";
    const path = url.pathname;
    return withRetry(
      async () => {
        let res: Response;
        try {
          res = await fetch(url, {
            method,
            headers: req.headers as Record<string, string>,
            body: req.body as string | undefined,
            signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
          });
        } catch (err) {
          const e = err as Error & { cause?: { code?: string } };
          throw new GitlabNetworkError(method, path, e.cause?.code ?? e.name ?? "network error");
        }
        const text = await res.text();
        if (!res.ok) throw new GitlabHttpError(method, path, res.status, describe(text), parseRetryAfter(res.headers.get("retry-after")));
        const isJson = (res.headers.get("content-type") ?? "").includes("json");
        const body = res.status === 204 || text === "" ? null : isJson ? JSON.parse(text) : text;
        return { body, headers: Object.fromEntries(res.headers.entries()), status: res.status };
      },
      policy,
      options.hooks,
    );
  };
}

function describe(text: string): string {
  let out = text;
  try {
    const j = JSON.parse(text) as Json;
    const m = j.message ?? j.error;
    out = typeof m === "string" ? m : JSON.stringify(m);
  } catch {
    // Not JSON: keep the text.
  }
  return scrubTokens(out).slice(0, 300);
}

function summary(r: Json): RunnerSummary {
  return {
    id: Number(r.id),
    description: String(r.description ?? ""),
    paused: r.paused === true || r.active === false,
    status: String(r.status ?? "never_contacted") as RunnerStatus,
  };
}

export function createGitlabClient(options: ClientOptions): GitlabApi {
  const requesterFn = createRequesterFn((_: ResourceOptions, o) => Promise.resolve(o), transport(options));
  const common = { host: options.url, token: () => Promise.resolve(options.token.reveal()), requesterFn, rateLimits: {} };
  const runners = new Runners(common);
  const users = new Users(common);
  const scope = options.scope;
  const scopeArgs =
    scope.type === "project_type" ? { projectId: scope.id as number } : scope.type === "group_type" ? { groupId: scope.id as number } : {};
  const issued = (b: Json): IssuedToken => ({ token: new Secret(String(b.token)), expiresAt: toDate(b.token_expires_at) });
  const notFound = (err: unknown) => err instanceof GitlabHttpError && err.status === 404;

  return {
    scope,
    async listRunners(filter = {}) {
      const list = (await runners.all({
        ...scopeArgs,
        type: scope.type,
        perPage: 100,
        ...(filter.tags && filter.tags.length > 0 ? { tagList: filter.tags } : {}),
      })) as unknown as Json[];
      return list.map(summary);
    },
    async getRunner(id) {
      try {
        const r = (await runners.show(id)) as unknown as Json;
        return {
          ...summary(r),
          tags: ((r.tag_list as string[] | undefined) ?? []).slice().sort(),
          maintenanceNote: String(r.maintenance_note ?? ""),
          runUntagged: r.run_untagged === true,
          accessLevel: (r.access_level as AccessLevel | undefined) ?? "not_protected",
        } satisfies RunnerDetail;
      } catch (err) {
        if (notFound(err)) return undefined;
        throw err;
      }
    },
    async createRunner(spec: RunnerSpec) {
      const b = (await users.createCIRunner(scope.type, {
        ...(scope.type === "project_type" ? { projectId: scope.id } : scope.type === "group_type" ? { groupId: scope.id } : {}),
        description: spec.description,
        tagList: spec.tags,
        runUntagged: spec.runUntagged,
        accessLevel: spec.accessLevel,
        maintenanceNote: spec.maintenanceNote,
        paused: false,
      })) as unknown as Json;
      return { id: Number(b.id), ...issued(b) };
    },
    async updateRunner(id, changes: RunnerChanges) {
      // Runners.edit's types lack maintenance_note, so PUT through the requester (same transport).
      await runners.requester.put(`runners/${id}`, {
        body: {
          ...(changes.tags ? { tagList: changes.tags } : {}),
          ...(changes.description !== undefined ? { description: changes.description } : {}),
          ...(changes.runUntagged !== undefined ? { runUntagged: changes.runUntagged } : {}),
          ...(changes.accessLevel !== undefined ? { accessLevel: changes.accessLevel } : {}),
          ...(changes.paused !== undefined ? { paused: changes.paused } : {}),
          ...(changes.maintenanceNote !== undefined ? { maintenanceNote: changes.maintenanceNote } : {}),
        },
      });
    },
    async deleteRunner(id) {
      try {
        await runners.remove({ runnerId: id });
      } catch (err) {
        if (!notFound(err)) throw err;
      }
    },
    async resetToken(id) {
      const res = await runners.requester.post(`runners/${id}/reset_authentication_token`);
      return issued(res.body as Json);
    },
    async runningJobs(id) {
      const jobs = (await runners.allJobs(id, { status: "running", perPage: 100 })) as unknown as Json[];
      return jobs.map((j) => Number(j.id));
    },
  };
}
