import { type Request, type Response, Router } from "express";
import { groupAccess, MAINTAINER, OWNER } from "../access.js";
import { allowScopes } from "../auth.js";
import { caller, type Emulator } from "../context.js";
import { ApiError, forbidden, notFound } from "../errors.js";
import { findGroup } from "../lookup.js";
import { boolParam, enumParam, type Params, readParams, stringParam, tagListParam } from "../params.js";
import { presentRunner } from "../present.js";
import { matchesFilters, type RunnerFilters, runnersInScope, STATUS_FILTERS } from "../runner-model.js";
import { sendPage } from "../send-page.js";
import { RUNNER_TYPES, type SimRunner } from "../state.js";
import { memberProject } from "./project-access.js";

/**
 * The deprecated `scope` parameter (Ci::Runner::AVAILABLE_SCOPES): each value as the filter it meant.
 * "specific" is every runner but the instance ones.
 */
const LEGACY_SCOPES: Record<string, (r: SimRunner, now: Date) => boolean> = {
  specific: (r) => r.runner_type !== "instance_type",
  shared: (r) => r.runner_type === "instance_type",
  ...Object.fromEntries(RUNNER_TYPES.map((type) => [type, (r: SimRunner) => r.runner_type === type])),
  ...Object.fromEntries(STATUS_FILTERS.map((status) => [status, (r: SimRunner, now: Date) => matchesFilters(r, { status }, now)])),
};

/**
 * Which scopes an endpoint takes (lib/api/ci/runners.rb): all of them on /runners/all and
 * /projects/:id/runners, only the statuses on /runners; /groups/:id/runners does not declare
 * `scope`, so Grape drops it unread.
 */
export type ScopeRule = "all" | "statuses" | "ignored";

/** Filters shared by all four list endpoints, plus the deprecated `scope` as an extra predicate (both must match). */
export function listFilters(p: Params, scopes: ScopeRule): { filters: RunnerFilters; inScope: (r: SimRunner, now: Date) => boolean } {
  const filters: RunnerFilters = {
    type: enumParam(p, "type", RUNNER_TYPES),
    status: enumParam(p, "status", STATUS_FILTERS),
    paused: boolParam(p, "paused"),
    tagList: tagListParam(p),
    versionPrefix: stringParam(p, "version_prefix"),
  };
  const scope = scopes === "ignored" ? undefined : enumParam(p, "scope", Object.keys(LEGACY_SCOPES));
  if (scope === undefined) return { filters, inScope: () => true };
  const allowed = scopes === "all" || (STATUS_FILTERS as readonly string[]).includes(scope);
  // Grape accepted the value; the endpoint's own check (render_api_error!) refuses it with this body.
  if (!allowed) throw new ApiError(400, { message: "Scope contains invalid value" });
  return { filters, inScope: LEGACY_SCOPES[scope] ?? (() => true) };
}

function listRunners(emu: Emulator, req: Request, res: Response, candidates: SimRunner[], scopes: ScopeRule): void {
  const p = readParams(req);
  const { filters, inScope } = listFilters(p, scopes);
  const now = emu.now();
  const found = candidates.filter((r) => matchesFilters(r, filters, now) && inScope(r, now));
  sendPage(req, res, p, found, (r) => presentRunner(r, emu.state, now, emu.baseUrl()));
}

/** GET /runners (owned), /runners/all (admin), /groups/:id/runners and /projects/:id/runners. */
export function runnerListRouter(emu: Emulator): Router {
  const r = Router();
  r.get("/runners", allowScopes(), (req, res) => {
    listRunners(emu, req, res, runnersInScope(emu.state, { kind: "owned", user: caller(res).user }), "statuses");
  });
  r.get("/runners/all", allowScopes(), (req, res) => {
    if (!caller(res).user.is_admin) throw forbidden();
    listRunners(emu, req, res, runnersInScope(emu.state, { kind: "all" }), "all");
  });
  // read_group_runners: the group's Owner (403 below it; 404 for who cannot see the group at all).
  r.get("/groups/:id/runners", allowScopes(), (req, res) => {
    const group = findGroup(emu, req.params.id);
    const access = groupAccess(emu.state, caller(res).user, group, OWNER);
    if (access === "not_found") throw notFound("Group");
    if (access === "forbidden") throw forbidden();
    listRunners(emu, req, res, runnersInScope(emu.state, { kind: "group", groupId: group.id }), "ignored");
  });
  // read_project_runners: Maintainer (403 below it, 404 for a non-member).
  r.get("/projects/:id/runners", allowScopes(), (req, res) => {
    const projectId = memberProject(emu, req, res, MAINTAINER).id;
    listRunners(emu, req, res, runnersInScope(emu.state, { kind: "project", projectId }), "all");
  });
  return r;
}
