import { Router } from "express";
import { hasGroupRole, hasRole, MAINTAINER, OWNER } from "../access.js";
import { allowScopes } from "../auth.js";
import { caller, type Emulator } from "../context.js";
import { badRequest, forbidden } from "../errors.js";
import { enumParam, intParam, readParams, requireParam } from "../params.js";
import { fullMessages } from "../runner-model.js";
import { newRunnerToken, RUNNER_TYPES, type SimRunner } from "../state.js";
import { runnerAttrs, withAttrs } from "./runners.js";

/** POST /user/runners: create a runner linked to the current user (the new creation workflow). */
export function userRunnersRouter(emu: Emulator): Router {
  const r = Router();
  r.post("/user/runners", allowScopes("create_runner"), (req, res) => {
    const p = readParams(req);
    const runnerType = requireParam(enumParam(p, "runner_type", RUNNER_TYPES), "runner_type");
    const groupId = runnerType === "group_type" ? requireParam(intParam(p, "group_id"), "group_id") : undefined;
    const projectId = runnerType === "project_type" ? requireParam(intParam(p, "project_id"), "project_id") : undefined;
    const attrs = runnerAttrs(p);
    const { user } = caller(res);
    // As CreateRunnerService: the scope must exist (400), then the user must own it (403).
    const group = groupId === undefined ? undefined : emu.state.groups.find((g) => g.id === groupId);
    const project = projectId === undefined ? undefined : emu.state.projects.find((x) => x.id === projectId);
    if (runnerType === "group_type" && !group) throw badRequest("Missing/invalid group");
    if (runnerType === "project_type" && !project) throw badRequest("Missing/invalid project");
    // create_runner: the admin any type; a group's Owner a group runner; a project's Maintainer (also
    // by inheritance from its group) a project runner.
    const allowed =
      user.is_admin ||
      (group !== undefined && hasGroupRole(emu.state, user, group.id, OWNER)) ||
      (project !== undefined && hasRole(emu.state, user, project.id, MAINTAINER));
    if (!allowed) throw forbidden("Insufficient permissions");
    const blank: SimRunner = {
      id: emu.state.nextId.runner,
      description: "",
      runner_type: runnerType,
      group_id: group?.id ?? null,
      project_ids: project ? [project.id] : [],
      paused: false,
      locked: false,
      run_untagged: true,
      tag_list: [],
      access_level: "not_protected",
      maximum_timeout: null,
      maintenance_note: null,
      token: newRunnerToken(),
      token_expires_at: null,
      created_at: emu.now().toISOString(),
      contacted_at: null,
      creator_id: user.id,
      managers: [],
    };
    const runner = withAttrs(blank, attrs, (errors) => badRequest(fullMessages(errors)));
    emu.state.nextId.runner += 1;
    emu.state.runners.push(runner);
    emu.save();
    res.status(201).json({ id: runner.id, token: runner.token, token_expires_at: runner.token_expires_at });
  });
  return r;
}
