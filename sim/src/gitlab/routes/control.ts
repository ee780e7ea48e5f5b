import { type Request, type Response, Router } from "express";
import { ACCESS_LEVEL_VALUES, roleName, setGroupMember, setMember } from "../access.js";
import type { Emulator } from "../context.js";
import { paramError } from "../errors.js";
import type { FaultKind } from "../faults.js";
import { findGroup, findProject } from "../lookup.js";
import { intParam, type Params, readParams, stringParam } from "../params.js";
import { newPersonalToken, SCOPES, type Scope, type SimUser } from "../state.js";

const FAULT_KINDS: readonly FaultKind[] = ["status", "drop", "latency"];

/**
 * The control API (/-/sim/...), apart from /api/v4 and open only to requests carrying the control
 * secret (control-auth.ts): world facts, token minting, fault injection and the request log.
 * Runner and job controls live in control-runners.ts.
 */
export function controlRouter(emu: Emulator): Router {
  const r = Router();

  r.get("/info", (_req, res) => {
    const project = emu.state.projects[0];
    res.json({
      groupId: project?.group_id,
      projectId: project?.id,
      mergeRequestIids: emu.state.mergeRequests.filter((m) => m.project_id === project?.id).map((m) => m.iid),
      adminUserId: emu.state.users.find((u) => u.is_admin)?.id,
    });
  });

  // Mint a personal access token with the given scopes, for the admin (default), a plain user who is
  // a member of nothing (admin: false), or a new user who is a member of project_id (default the
  // first project) — or of group_id — with access_level (10 Guest … 50 Owner), so tests can reach
  // 403 and 404 paths.
  r.post("/tokens", (req, res) => {
    const p = tokenParams(req);
    const scopes = Array.isArray(p.scopes)
      ? p.scopes.map(String)
      : String(p.scopes ?? "")
          .split(",")
          .filter(Boolean);
    const unknown = scopes.filter((s) => !(SCOPES as readonly string[]).includes(s));
    if (scopes.length === 0 || unknown.length > 0) {
      throw paramError(
        `scopes must be a non-empty list of ${SCOPES.join(", ")}${unknown.length ? `; unknown: ${unknown.join(", ")}` : ""}`,
      );
    }
    const level = intParam(p, "access_level");
    if (level !== undefined && !ACCESS_LEVEL_VALUES.includes(level))
      throw paramError(`access_level must be one of ${ACCESS_LEVEL_VALUES.join(", ")}`);
    const groupId = intParam(p, "group_id");
    if (groupId !== undefined && level === undefined) throw paramError("group_id needs an access_level");
    const user =
      level !== undefined
        ? memberUser(emu, level, groupId !== undefined ? { group: findGroup(emu, String(groupId)).id } : { project: projectOf(emu, p) })
        : p.admin === false || p.admin === "false"
          ? plainUser(emu)
          : emu.state.users.find((u) => u.is_admin);
    if (!user) throw new Error("the seeded admin user is missing from the emulator state");
    const token = {
      id: emu.state.nextId.token++,
      name: stringParam(p, "name") ?? `sim-${scopes.join("-")}`,
      token: newPersonalToken(),
      scopes: scopes as Scope[],
      user_id: user.id,
      revoked: false,
    };
    emu.state.tokens.push(token);
    emu.save();
    res.status(201).json({
      id: token.id,
      token: token.token,
      scopes: token.scopes,
      user_id: user.id,
      admin: user.is_admin,
      ...(level !== undefined ? { access_level: level } : {}),
    });
  });

  // Another project in a group (default the first), e.g. to assign a runner to a second project.
  r.post("/projects", (req, res) => {
    const p = readParams(req);
    const group = findGroup(emu, String(intParam(p, "group_id") ?? emu.state.groups[0]?.id));
    const id = Math.max(0, ...emu.state.projects.map((x) => x.id)) + 1;
    const name = stringParam(p, "name") ?? `project-${id}`;
    if (!/^[a-z0-9][a-z0-9._-]*$/.test(name)) throw paramError("name must be a project path: lowercase letters, digits, '.', '_', '-'");
    if (emu.state.projects.some((x) => x.group_id === group.id && x.path === name)) throw paramError(`${group.path}/${name} exists`);
    emu.state.projects.push({ id, name, path: name, group_id: group.id, default_branch: "main" });
    emu.save();
    res.status(201).json({ id, path_with_namespace: `${group.path}/${name}`, group_id: group.id });
  });

  r.post("/tokens/:id/revoke", (req, res) => {
    const token = emu.state.tokens.find((t) => t.id === Number(req.params.id));
    if (!token) {
      res.status(404).json({ message: `no token with id ${req.params.id}` });
      return;
    }
    token.revoked = true;
    emu.save();
    res.status(204).end();
  });

  r.get("/faults", (_req, res) => {
    res.json(emu.faults.list());
  });
  r.post("/faults", (req, res) => {
    const p = readParams(req);
    const kind = stringParam(p, "kind") ?? "status";
    if (!(FAULT_KINDS as readonly string[]).includes(kind)) throw paramError(`kind must be one of ${FAULT_KINDS.join(", ")}`);
    const rule = emu.faults.add({
      kind: kind as FaultKind,
      remaining: intParam(p, "count") ?? 1,
      status: intParam(p, "status"),
      retryAfter: intParam(p, "retry_after"),
      delayMs: intParam(p, "delay_ms"),
      method: stringParam(p, "method"),
      pathPrefix: stringParam(p, "path_prefix"),
    });
    res.status(201).json(rule);
  });
  r.delete("/faults", (_req, res) => {
    emu.faults.clear();
    res.status(204).end();
  });

  r.get("/requests", (_req: Request, res: Response) => {
    res.json(emu.requests.snapshot());
  });
  r.delete("/requests", (_req, res) => {
    emu.requests.reset();
    res.status(204).end();
  });

  return r;
}

/**
 * Token minting reads the JSON body only: a query string lands in access logs, proxies and shell
 * history, so a mere link must not be able to ask for an admin token.
 */
function tokenParams(req: Request): Params {
  if (Object.keys(req.query).length > 0)
    throw paramError(
      `POST /-/sim/tokens takes its parameters from a JSON body only, not the query string (got ${Object.keys(req.query).join(", ")})`,
    );
  return typeof req.body === "object" && req.body !== null ? (req.body as Params) : {};
}

function projectOf(emu: Emulator, p: Params): number {
  return findProject(emu, String(intParam(p, "project_id") ?? emu.state.projects[0]?.id)).id;
}

/** A new user who is a member of the project or group with this role (one per call: tests compare authors). */
function memberUser(emu: Emulator, level: number, of: { project: number } | { group: number }): SimUser {
  const id = emu.state.nextId.user++;
  const role = roleName(level);
  const user: SimUser = {
    id,
    username: `${role}${id}`,
    name: `Sim ${role} ${id}`,
    email: `${role}${id}@example.com`,
    is_admin: false,
    created_at: emu.now().toISOString(),
  };
  emu.state.users.push(user);
  if ("group" in of) setGroupMember(emu.state, { group_id: of.group, user_id: id, access_level: level, created_at: user.created_at });
  else setMember(emu.state, { project_id: of.project, user_id: id, access_level: level, created_at: user.created_at });
  return user;
}

/** A non-admin user with no memberships, created on first need. */
function plainUser(emu: Emulator): SimUser {
  const existing = emu.state.users.find((u) => !u.is_admin && u.username === "developer");
  if (existing) return existing;
  const user: SimUser = {
    id: emu.state.nextId.user++,
    username: "developer",
    name: "Plain Developer",
    email: "developer@example.com",
    is_admin: false,
    created_at: emu.now().toISOString(),
  };
  emu.state.users.push(user);
  return user;
}
