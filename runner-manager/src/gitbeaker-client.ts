import { Runners, Users } from "@gitbeaker/core";
import { createRequesterFn, type ResourceOptions, type ResponseBodyTypes } from "@gitbeaker/requester-utils";
import { GitlabHttpError, type GitlabQuery, type GitlabTransport, Secret } from "@pifleet/io";
import type { GitlabApi, IssuedToken, RunnerChanges, RunnerDetail, RunnerSpec, RunnerSummary } from "./gitlab-api.js";
import { toDate } from "./gitlab-api.js";
import type { AccessLevel, RunnerScope, RunnerStatus } from "./types.js";

/**
 * GitlabApi over gitbeaker's resource classes (URLs, pagination, key casing)
 * with pifleet's one GitLab transport (@pifleet/io) underneath: it
 * authenticates, retries 429/5xx/network errors honouring Retry-After, and
 * names the call in errors without the token.
 */

type Json = Record<string, unknown>;

/** gitbeaker's encoded query (arrays as key[]=value) back into the transport's query, which encodes them the same way. */
function queryOf(searchParams: unknown): GitlabQuery {
  const query: Record<string, string | string[]> = {};
  if (typeof searchParams !== "string") return query;
  for (const [key, value] of new URLSearchParams(searchParams)) {
    if (!key.endsWith("[]")) query[key] = value;
    else {
      const name = key.slice(0, -2);
      query[name] = [...((query[name] as string[] | undefined) ?? []), value];
    }
  }
  return query;
}

/** Creating a runner is the one call that makes something new each time it reaches GitLab. */
const isRunnerCreation = (method: string, endpoint: string) => method === "POST" && endpoint.replace(/^\//, "") === "user/runners";

/** gitbeaker's request handler, sending every call through the transport; its own retry loop and auth headers are not used. */
function viaTransport(transport: GitlabTransport) {
  return async (endpoint: string, req: Record<string, unknown> = {}) => {
    const body = typeof req.body === "string" ? JSON.parse(req.body) : undefined;
    const method = String(req.method ?? "GET");
    const res = await transport.request<ResponseBodyTypes>(method, `/${endpoint}`, {
      query: queryOf(req.searchParams),
      ...(body === undefined ? {} : { body }),
      // A retry after GitLab may have created the runner would make a second one (applyPlan looks it up instead).
      ...(isRunnerCreation(method, endpoint) ? { idempotent: false } : {}),
    });
    return { body: res.body, headers: Object.fromEntries(res.headers.entries()), status: res.status };
  };
}

function summary(r: Json): RunnerSummary {
  return {
    id: Number(r.id),
    description: String(r.description ?? ""),
    paused: r.paused === true || r.active === false,
    status: String(r.status ?? "never_contacted") as RunnerStatus,
  };
}

/** The GitLab calls runner-manager makes, for runners in `scope`, over `transport`. */
export function createGitlabClient(transport: GitlabTransport, scope: RunnerScope): GitlabApi {
  const requesterFn = createRequesterFn((_: ResourceOptions, o) => Promise.resolve(o), viaTransport(transport));
  // The transport authenticates: gitbeaker gets no token, so none sits in its headers.
  const common = { requesterFn, rateLimits: {} };
  const runners = new Runners(common);
  const users = new Users(common);
  const scopeArgs = scope.type === "project_type" ? { projectId: scope.id } : scope.type === "group_type" ? { groupId: scope.id } : {};
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
        ...scopeArgs,
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
    async verifyToken(token, systemId) {
      try {
        // Authenticated by the runner token in the body; the token never goes into a path or query.
        await transport.request("POST", "/runners/verify", {
          body: { token: token.reveal(), ...(systemId ? { system_id: systemId } : {}) },
        });
        return true;
      } catch (err) {
        if (err instanceof GitlabHttpError && err.status === 403) return false;
        throw err;
      }
    },
    async runningJobs(id) {
      const jobs = (await runners.allJobs(id, { status: "running", perPage: 100 })) as unknown as Json[];
      return jobs.map((j) => Number(j.id));
    },
  };
}
