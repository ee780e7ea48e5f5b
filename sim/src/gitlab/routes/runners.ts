import { type Response, Router } from "express";
import { allowScopes } from "../auth.js";
import { presentJobWithProject } from "../ci-present.js";
import { runnerQueue } from "../ci-queue.js";
import { CI_STATUSES, ciState } from "../ci-state.js";
import { caller, type Emulator } from "../context.js";
import { ApiError, forbidden, paramError, validationError } from "../errors.js";
import { findRunner } from "../lookup.js";
import { boolParam, enumParam, intParam, type Params, readParams, stringParam, tagListParam } from "../params.js";
import { presentManager, presentRunnerDetails } from "../present.js";
import { canManageRunner, canReadRunner, type RunnerAttrs, runnerValidationErrors } from "../runner-model.js";
import { sendPageWithStrategies } from "../send-page.js";
import { ACCESS_LEVELS, newRunnerToken, type SimRunner } from "../state.js";

/** Real GitLab paths under /runners/ that are not a runner id. */
const OTHER_RUNNER_PATHS = new Set(["all", "managers", "verify", "reset_authentication_token", "reset_registration_token"]);

const UPDATABLE = [
  "description",
  "active",
  "paused",
  "tag_list",
  "run_untagged",
  "locked",
  "access_level",
  "maximum_timeout",
  "maintenance_note",
] as const;

/** The runner attributes POST /user/runners and PUT /runners/:id accept, parsed and typed. */
export function runnerAttrs(p: Params): RunnerAttrs {
  const active = boolParam(p, "active");
  const paused = boolParam(p, "paused");
  return {
    description: stringParam(p, "description"),
    paused: paused ?? (active === undefined ? undefined : !active),
    locked: boolParam(p, "locked"),
    run_untagged: boolParam(p, "run_untagged"),
    tag_list: tagListParam(p),
    access_level: enumParam(p, "access_level", ACCESS_LEVELS),
    maximum_timeout: intParam(p, "maximum_timeout"),
    maintenance_note: stringParam(p, "maintenance_note"),
  };
}

/**
 * Applies attributes to a copy, validates it and returns it. An invalid result is a 400 shaped as
 * the endpoint shapes it: PUT renders the model errors ({"message": {field: [..]}}), while
 * POST /user/runners passes the service's sentence ("400 Bad request - Tags list can not be …").
 */
export function withAttrs(
  runner: SimRunner,
  attrs: RunnerAttrs,
  invalid: (errors: Record<string, string[]>) => Error = validationError,
): SimRunner {
  const defined = Object.fromEntries(Object.entries(attrs).filter(([, v]) => v !== undefined));
  const next: SimRunner = { ...runner, ...defined };
  const errors = runnerValidationErrors(next);
  if (Object.keys(errors).length > 0) throw invalid(errors);
  return next;
}

function replaceRunner(emu: Emulator, changed: SimRunner): void {
  const updated = { ...changed, updated_at: emu.now().toISOString() };
  emu.state.runners = emu.state.runners.map((r) => (r.id === updated.id ? updated : r));
  emu.save();
  // Paused, unpaused, new tags: what the runner may take changed, so its held job request goes on.
  runnerQueue(emu).bump();
}

/**
 * Grape's destroy_conditionally!: an If-Unmodified-Since older than the resource's last change is
 * 412; a header that does not parse as a date is ignored, as Time.parse failing is.
 */
function checkUnmodifiedSince(header: string | undefined, lastModified: string): void {
  const since = header === undefined ? Number.NaN : Date.parse(header);
  if (!Number.isNaN(since) && Date.parse(lastModified) > since) throw new ApiError(412, { message: "412 Precondition Failed" });
}

/** A runner the caller may read (404 if missing, 403 "No access granted" if not theirs). */
function readable(emu: Emulator, res: Response, id: unknown): SimRunner {
  const runner = findRunner(emu, id);
  if (!canReadRunner(emu.state, caller(res).user, runner)) throw forbidden("No access granted");
  return runner;
}

/**
 * authenticate_delete_runner!: for anyone but the admin, a project runner assigned to more than one
 * project is refused first — whoever asks, even a Maintainer of all of them (unassign it from the
 * others first) — then the manage rule. The 412 check comes after both.
 */
function deletable(emu: Emulator, res: Response, id: unknown): SimRunner {
  const runner = findRunner(emu, id);
  if (!caller(res).user.is_admin && runner.project_ids.length > 1) throw forbidden("Runner associated with more than one project");
  if (!canManageRunner(emu.state, caller(res).user, runner)) throw forbidden("No access granted");
  return runner;
}

function manageable(emu: Emulator, res: Response, id: unknown): SimRunner {
  const runner = findRunner(emu, id);
  if (!canManageRunner(emu.state, caller(res).user, runner)) throw forbidden("No access granted");
  return runner;
}

/** /runners/:id and what hangs below it; the manage_runner scope is enough for all of these. */
export function runnerRouter(emu: Emulator): Router {
  const r = Router();
  const scopes = allowScopes("manage_runner");
  // GitLab endpoints like DELETE /runners/managers share this path shape; they are not covered, so they fall through to 501.
  r.use("/runners/:id", (req, _res, next) => (OTHER_RUNNER_PATHS.has(String(req.params.id)) ? next("router") : next()));
  const details = (runner: SimRunner, res: Response) =>
    presentRunnerDetails(runner, emu.state, emu.now(), emu.baseUrl(), canManageRunner(emu.state, caller(res).user, runner));

  r.get("/runners/:id", scopes, (req, res) => {
    res.json(details(readable(emu, res, req.params.id), res));
  });

  r.put("/runners/:id", scopes, (req, res) => {
    const p = readParams(req);
    if (!UPDATABLE.some((k) => p[k] !== undefined)) {
      throw paramError(`${UPDATABLE.join(", ")} are missing, at least one parameter must be provided`);
    }
    if (p.active !== undefined && p.paused !== undefined) throw paramError("active, paused are mutually exclusive");
    const attrs = runnerAttrs(p);
    const updated = withAttrs(manageable(emu, res, req.params.id), attrs);
    replaceRunner(emu, updated);
    res.json(details(updated, res));
  });

  r.delete("/runners/:id", scopes, (req, res) => {
    const runner = deletable(emu, res, req.params.id);
    checkUnmodifiedSince(req.get("if-unmodified-since"), runner.updated_at ?? runner.created_at);
    emu.state.runners = emu.state.runners.filter((x) => x.id !== runner.id);
    // GitLab keeps the jobs; they just no longer name a runner.
    for (const j of ciState(emu.state).jobs) if (j.runner_id === runner.id) j.runner_id = null;
    emu.save();
    res.status(204).end();
  });

  r.post("/runners/:id/reset_authentication_token", scopes, (req, res) => {
    const runner = manageable(emu, res, req.params.id);
    const updated = { ...runner, token: newRunnerToken() };
    replaceRunner(emu, updated);
    res.status(201).json({ token: updated.token, token_expires_at: updated.token_expires_at });
  });

  // read_builds is the same rule as managing (admin or the runner's owner). GitLab then lists only jobs of
  // projects where the caller is at least Reporter; a runner's owner here maintains every project its jobs ran in.
  r.get("/runners/:id/jobs", scopes, (req, res) => {
    const p = readParams(req);
    const status = enumParam(p, "status", CI_STATUSES);
    const systemId = stringParam(p, "system_id");
    enumParam(p, "order_by", ["id"] as const);
    const sort = enumParam(p, "sort", ["asc", "desc"] as const) ?? "desc";
    const runner = manageable(emu, res, req.params.id);
    const jobs = ciState(emu.state)
      .jobs.filter((j) => j.runner_id === runner.id && (!status || j.status === status) && (!systemId || j.system_id === systemId))
      .sort((a, b) => (sort === "asc" ? a.id - b.id : b.id - a.id));
    sendPageWithStrategies(req, res, p, jobs, sort === "desc", (j) => presentJobWithProject(emu, j));
  });

  r.get("/runners/:id/managers", scopes, (req, res) => {
    const runner = readable(emu, res, req.params.id);
    const now = emu.now();
    res.json(runner.managers.map((m) => presentManager(m, runner, emu.state, now)));
  });

  return r;
}
