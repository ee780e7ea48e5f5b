import { randomBytes } from "node:crypto";
import { type Request, type Response, Router } from "express";
import { ACCESS_LEVEL_VALUES, hasRole, MAINTAINER, memberLevel, projectAccess, roleName, setMember } from "../access.js";
import { allowScopes } from "../auth.js";
import { caller, type Emulator } from "../context.js";
import { badRequest, notFound, paramError, unauthorized } from "../errors.js";
import { findProject } from "../lookup.js";
import { enumParam, intParam, type Params, readParams, requireParam, stringParam } from "../params.js";
import { sendPage } from "../send-page.js";
import { newPersonalToken, SCOPES, type Scope, type SimProject, type SimToken, type SimUser } from "../state.js";
import { presentToken, tokenActive } from "../token-model.js";

/** Gitlab::Auth.resource_bot_scopes, as far as the emulator models scopes (read_user is for people). */
const BOT_SCOPES: readonly Scope[] = SCOPES.filter((s) => s !== "read_user");
/** PersonalAccessToken::MAX_PERSONAL_ACCESS_TOKEN_LIFETIME_IN_DAYS: expires_at's default. */
const MAX_LIFETIME_DAYS = 365;

/** Entities::ResourceAccessToken (PersonalAccessToken plus the bot's access_level in the project). */
function presentAccessToken(emu: Emulator, t: SimToken, project: SimProject) {
  const bot = emu.state.users.find((u) => u.id === t.user_id);
  return {
    ...presentToken(t, emu.now()),
    access_level: bot ? (memberLevel(emu.state, bot, project.id) ?? null) : null,
  };
}

/** Grape's Array[String] with `values:` — an array, or one string; any value outside the list fails. */
function scopesParam(p: Params): Scope[] {
  const raw = requireParam(p.scopes, "scopes");
  const list = Array.isArray(raw) ? raw.map(String) : [String(raw)];
  if (list.length === 0 || list.some((s) => !(BOT_SCOPES as readonly string[]).includes(s))) {
    throw paramError("scopes does not have a valid value");
  }
  return list as Scope[];
}

/** A Grape Date: YYYY-MM-DD (a time part is dropped), default MAX_LIFETIME_DAYS from today. */
function expiresAtParam(p: Params, now: Date): string {
  const v = stringParam(p, "expires_at");
  if (v === undefined) return new Date(now.getTime() + MAX_LIFETIME_DAYS * 86_400_000).toISOString().slice(0, 10);
  const date = /^\d{4}-\d{2}-\d{2}/.exec(v)?.[0];
  if (!date || Number.isNaN(Date.parse(date))) throw paramError("expires_at is invalid");
  return date;
}

/**
 * Project access tokens (lib/api/resource_access_tokens.rb, doc/api/project_access_tokens.md): each
 * token belongs to a bot user made a member of the project with the token's role. The token is shown
 * once, by POST. Reading and creating need the Maintainer role (manage_resource_access_tokens); as in
 * GitLab, a lower role is answered 401 on GET and 400 on POST and DELETE, a non-member 404.
 */
export function accessTokensRouter(emu: Emulator): Router {
  const r = Router();

  const visible = (req: Request, res: Response): SimProject => {
    const project = findProject(emu, req.params.id);
    if (projectAccess(emu.state, caller(res).user, project, 0) === "not_found") throw notFound("Project");
    return project;
  };
  const mayManage = (res: Response, project: SimProject) => hasRole(emu.state, caller(res).user, project.id, MAINTAINER);
  const tokensOf = (project: SimProject) => emu.state.tokens.filter((t) => t.project_id === project.id);
  const findToken = (project: SimProject, id: string): SimToken => {
    const token = tokensOf(project).find((t) => String(t.id) === id);
    // not_found!("Could not find …") words it as "404 <that> Not Found".
    if (!token) throw notFound(`Could not find project access token with token_id: ${id}`);
    return token;
  };

  r.get("/projects/:id/access_tokens", allowScopes(), (req, res) => {
    const p = readParams(req);
    const state = enumParam(p, "state", ["active", "inactive"] as const);
    const project = visible(req, res);
    if (!mayManage(res, project)) throw unauthorized();
    const now = emu.now();
    const tokens = tokensOf(project).filter((t) => state === undefined || tokenActive(t, now) === (state === "active"));
    sendPage(req, res, p, tokens, (t) => presentAccessToken(emu, t, project));
  });

  r.get("/projects/:id/access_tokens/:token_id", allowScopes(), (req, res) => {
    const project = visible(req, res);
    if (!mayManage(res, project)) throw unauthorized();
    res.json(presentAccessToken(emu, findToken(project, String(req.params.token_id)), project));
  });

  r.post("/projects/:id/access_tokens", allowScopes(), (req, res) => {
    const p = readParams(req);
    const name = requireParam(stringParam(p, "name"), "name");
    const scopes = scopesParam(p);
    const level = intParam(p, "access_level") ?? MAINTAINER;
    if (!ACCESS_LEVEL_VALUES.includes(level)) throw paramError("access_level does not have a valid value");
    const now = emu.now();
    const expiresAt = expiresAtParam(p, now);
    const project = visible(req, res);
    const { user } = caller(res);
    // ResourceAccessTokens::CreateService's refusals, as 400s.
    if (!mayManage(res, project)) throw badRequest("User does not have permission to create project access token");
    if (!user.is_admin && level > (memberLevel(emu.state, user, project.id) ?? 0)) {
      throw badRequest(
        `Could not provision ${roleName(level)} access to the access token. ERROR: Access level of the token can't be greater the access level of the user who created the token`,
      );
    }
    const bot = botUser(emu, project, name, now);
    setMember(emu.state, { project_id: project.id, user_id: bot.id, access_level: level, created_at: now.toISOString() });
    const token: SimToken = {
      id: emu.state.nextId.token++,
      name,
      token: newPersonalToken(),
      scopes,
      user_id: bot.id,
      revoked: false,
      project_id: project.id,
      description: stringParam(p, "description") ?? null,
      created_at: now.toISOString(),
      expires_at: expiresAt,
    };
    emu.state.tokens.push(token);
    emu.save();
    // Entities::ResourceAccessTokenWithToken: the only answer that carries the token.
    res.status(201).json({ ...presentAccessToken(emu, token, project), token: token.token });
  });

  r.delete("/projects/:id/access_tokens/:token_id", allowScopes(), (req, res) => {
    const project = visible(req, res);
    const token = findToken(project, String(req.params.token_id));
    if (!mayManage(res, project)) {
      const bot = emu.state.users.find((u) => u.id === token.user_id);
      throw badRequest(`${caller(res).user.name} cannot delete ${bot?.name ?? "the token's bot user"}`);
    }
    token.revoked = true;
    emu.save();
    res.status(204).end();
  });

  return r;
}

/** The bot user GitLab creates for each project access token: project_<id>_bot_<hex>, named after the token. */
function botUser(emu: Emulator, project: SimProject, name: string, now: Date): SimUser {
  const username = `project_${project.id}_bot_${randomBytes(16).toString("hex")}`;
  const user: SimUser = {
    id: emu.state.nextId.user++,
    username,
    name,
    email: `${username}@noreply.${new URL(emu.baseUrl()).hostname}`,
    is_admin: false,
    created_at: now.toISOString(),
    bot: true,
  };
  emu.state.users.push(user);
  return user;
}
