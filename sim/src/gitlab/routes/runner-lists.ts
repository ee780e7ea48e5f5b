import { type Request, type Response, Router } from "express";
import { MAINTAINER } from "../access.js";
import { allowScopes } from "../auth.js";
import { caller, type Emulator } from "../context.js";
import { badRequest, forbidden } from "../errors.js";
import { findGroup } from "../lookup.js";
import { boolParam, enumParam, type Params, readParams, stringParam, tagListParam } from "../params.js";
import { presentRunner } from "../present.js";
import { matchesFilters, type RunnerFilters, runnersInScope, STATUS_FILTERS } from "../runner-model.js";
import { sendPage } from "../send-page.js";
import { RUNNER_TYPES, type SimRunner } from "../state.js";
import { memberProject } from "./project-access.js";

/** The deprecated `scope` parameter: what each value meant, as a filter. */
const LEGACY_SCOPES: Record<string, RunnerFilters> = {
  active: { status: "active" },
  paused: { status: "paused" },
  online: { status: "online" },
  offline: { status: "offline" },
  specific: {},
  shared: { type: "instance_type" },
};

/** Filters shared by all four list endpoints; `scope` values specific/shared only on /runners/all. */
export function listFilters(p: Params, allowTypeScopes: boolean): { filters: RunnerFilters; specificOnly: boolean } {
  const filters: RunnerFilters = {
    type: enumParam(p, "type", RUNNER_TYPES),
    status: enumParam(p, "status", STATUS_FILTERS),
    paused: boolParam(p, "paused"),
    tagList: tagListParam(p),
    versionPrefix: stringParam(p, "version_prefix"),
  };
  const scope = stringParam(p, "scope");
  if (scope === undefined) return { filters, specificOnly: false };
  const typeScope = scope === "specific" || scope === "shared";
  const legacy = LEGACY_SCOPES[scope];
  if (!legacy || (typeScope && !allowTypeScopes)) throw badRequest("Scope contains invalid value");
  return { filters: { ...filters, ...legacy }, specificOnly: scope === "specific" };
}

function listRunners(emu: Emulator, req: Request, res: Response, candidates: SimRunner[], allowTypeScopes = false): void {
  const p = readParams(req);
  const { filters, specificOnly } = listFilters(p, allowTypeScopes);
  const now = emu.now();
  const found = candidates.filter((r) => matchesFilters(r, filters, now) && !(specificOnly && r.runner_type === "instance_type"));
  sendPage(req, res, p, found, (r) => presentRunner(r, now));
}

/** GET /runners (owned), /runners/all (admin), /groups/:id/runners and /projects/:id/runners. */
export function runnerListRouter(emu: Emulator): Router {
  const r = Router();
  r.get("/runners", allowScopes(), (req, res) => {
    listRunners(emu, req, res, runnersInScope(emu.state, { kind: "owned", user: caller(res).user }));
  });
  r.get("/runners/all", allowScopes(), (req, res) => {
    if (!caller(res).user.is_admin) throw forbidden();
    listRunners(emu, req, res, runnersInScope(emu.state, { kind: "all" }), true);
  });
  r.get("/groups/:id/runners", allowScopes(), (req, res) => {
    const groupId = findGroup(emu, req.params.id).id;
    if (!caller(res).user.is_admin) throw forbidden();
    listRunners(emu, req, res, runnersInScope(emu.state, { kind: "group", groupId }));
  });
  // read_project_runners: Maintainer (403 below it, 404 for a non-member).
  r.get("/projects/:id/runners", allowScopes(), (req, res) => {
    const projectId = memberProject(emu, req, res, MAINTAINER).id;
    listRunners(emu, req, res, runnersInScope(emu.state, { kind: "project", projectId }));
  });
  return r;
}
