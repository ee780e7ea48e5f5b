import { randomBytes } from "node:crypto";
import { type Request, type Response, Router } from "express";
import {
  ACCESS_LEVEL_VALUES,
  groupAccess,
  groupLevel,
  hasGroupRole,
  hasRole,
  MAINTAINER,
  memberLevel,
  OWNER,
  projectAccess,
  roleName,
  setGroupMember,
  setMember,
} from "../access.js";
import { allowScopes } from "../auth.js";
import { caller, type Emulator } from "../context.js";
import { badRequest, notFound, paramError, unauthorized } from "../errors.js";
import { findGroup, findProject } from "../lookup.js";
import { enumParam, intParam, type Params, readParams, requireParam, stringParam } from "../params.js";
import { sendPage } from "../send-page.js";
import { newPersonalToken, SCOPES, type Scope, type SimToken, type SimUser } from "../state.js";
import { presentToken, tokenActive } from "../token-model.js";

/** Gitlab::Auth.resource_bot_scopes, as far as the emulator models scopes (read_user is for people). */
const BOT_SCOPES: readonly Scope[] = SCOPES.filter((s) => s !== "read_user");
/** PersonalAccessToken::MAX_PERSONAL_ACCESS_TOKEN_LIFETIME_IN_DAYS: expires_at's default. */
const MAX_LIFETIME_DAYS = 365;

/** A project or a group as lib/api/resource_access_tokens.rb treats both: the resource a token's bot is a member of. */
interface TokenSource {
  kind: "project" | "group";
  id: number;
  /** The role of a user in it (inherited for projects), undefined for a non-member. */
  level(user: SimUser): number | undefined;
  /** manage_resource_access_tokens: a project's Maintainer, a group's Owner. */
  mayManage(user: SimUser): boolean;
  addMember(user: SimUser, level: number, at: string): void;
  tokens(): SimToken[];
}

/** The request's project or group, visible to the caller (a non-member gets 404, as find_source does). */
function findSource(emu: Emulator, kind: TokenSource["kind"], req: Request, res: Response): TokenSource {
  const { user } = caller(res);
  const { state } = emu;
  if (kind === "project") {
    const project = findProject(emu, req.params.id);
    if (projectAccess(state, user, project, 0) === "not_found") throw notFound("Project");
    return {
      kind,
      id: project.id,
      level: (u) => memberLevel(state, u, project.id),
      mayManage: (u) => hasRole(state, u, project.id, MAINTAINER),
      addMember: (u, level, at) => setMember(state, { project_id: project.id, user_id: u.id, access_level: level, created_at: at }),
      tokens: () => state.tokens.filter((t) => t.project_id === project.id),
    };
  }
  const group = findGroup(emu, req.params.id);
  if (groupAccess(state, user, group, 0) === "not_found") throw notFound("Group");
  return {
    kind,
    id: group.id,
    level: (u) => groupLevel(state, u, group.id),
    mayManage: (u) => hasGroupRole(state, u, group.id, OWNER),
    addMember: (u, level, at) => setGroupMember(state, { group_id: group.id, user_id: u.id, access_level: level, created_at: at }),
    tokens: () => state.tokens.filter((t) => t.group_id === group.id),
  };
}

/** Entities::ResourceAccessToken (PersonalAccessToken plus the bot's access_level in the project or group). */
function presentAccessToken(emu: Emulator, t: SimToken, source: TokenSource) {
  const bot = emu.state.users.find((u) => u.id === t.user_id);
  return {
    ...presentToken(t, emu.now()),
    access_level: bot ? (source.level(bot) ?? null) : null,
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
 * Project and group access tokens (lib/api/resource_access_tokens.rb, doc/api/project_access_tokens.md,
 * doc/api/group_access_tokens.md): each token belongs to a bot user made a member of the project or
 * group with the token's role (a group's bot holds it in the group's projects too). The token is
 * shown once, by POST. Reading and creating need manage_resource_access_tokens (a project's
 * Maintainer, a group's Owner); as in GitLab, a lower role is answered 401 on GET and 400 on POST and
 * DELETE, a non-member 404.
 */
export function accessTokensRouter(emu: Emulator): Router {
  const r = Router();
  for (const kind of ["project", "group"] as const) mountAccessTokens(emu, r, kind);
  return r;
}

function mountAccessTokens(emu: Emulator, r: Router, kind: TokenSource["kind"]): void {
  const base = `/${kind}s/:id/access_tokens`;
  const mayManage = (res: Response, source: TokenSource) => source.mayManage(caller(res).user);
  const findToken = (source: TokenSource, id: string): SimToken => {
    const token = source.tokens().find((t) => String(t.id) === id);
    // not_found!("Could not find …") words it as "404 <that> Not Found".
    if (!token) throw notFound(`Could not find ${kind} access token with token_id: ${id}`);
    return token;
  };

  r.get(base, allowScopes(), (req, res) => {
    const p = readParams(req);
    const state = enumParam(p, "state", ["active", "inactive"] as const);
    const source = findSource(emu, kind, req, res);
    if (!mayManage(res, source)) throw unauthorized();
    const now = emu.now();
    const tokens = source.tokens().filter((t) => state === undefined || tokenActive(t, now) === (state === "active"));
    sendPage(req, res, p, tokens, (t) => presentAccessToken(emu, t, source));
  });

  r.get(`${base}/:token_id`, allowScopes(), (req, res) => {
    const source = findSource(emu, kind, req, res);
    if (!mayManage(res, source)) throw unauthorized();
    res.json(presentAccessToken(emu, findToken(source, String(req.params.token_id)), source));
  });

  r.post(base, allowScopes(), (req, res) => {
    const p = readParams(req);
    const name = requireParam(stringParam(p, "name"), "name");
    const scopes = scopesParam(p);
    const level = intParam(p, "access_level") ?? MAINTAINER;
    if (!ACCESS_LEVEL_VALUES.includes(level)) throw paramError("access_level does not have a valid value");
    const now = emu.now();
    const expiresAt = expiresAtParam(p, now);
    const source = findSource(emu, kind, req, res);
    const { user } = caller(res);
    // ResourceAccessTokens::CreateService's refusals, as 400s.
    if (!mayManage(res, source)) throw badRequest(`User does not have permission to create ${kind} access token`);
    if (!user.is_admin && level > (source.level(user) ?? 0)) {
      throw badRequest(
        `Could not provision ${roleName(level)} access to the access token. ERROR: Access level of the token can't be greater the access level of the user who created the token`,
      );
    }
    const bot = botUser(emu, `${kind}_${source.id}`, name, now);
    source.addMember(bot, level, now.toISOString());
    const token: SimToken = {
      id: emu.state.nextId.token++,
      name,
      token: newPersonalToken(),
      scopes,
      user_id: bot.id,
      revoked: false,
      ...(kind === "project" ? { project_id: source.id } : { group_id: source.id }),
      description: stringParam(p, "description") ?? null,
      created_at: now.toISOString(),
      expires_at: expiresAt,
    };
    emu.state.tokens.push(token);
    emu.save();
    // Entities::ResourceAccessTokenWithToken: the only answer that carries the token.
    res.status(201).json({ ...presentAccessToken(emu, token, source), token: token.token });
  });

  r.delete(`${base}/:token_id`, allowScopes(), (req, res) => {
    const source = findSource(emu, kind, req, res);
    const token = findToken(source, String(req.params.token_id));
    if (!mayManage(res, source)) {
      const bot = emu.state.users.find((u) => u.id === token.user_id);
      throw badRequest(`${caller(res).user.name} cannot delete ${bot?.name ?? "the token's bot user"}`);
    }
    token.revoked = true;
    emu.save();
    res.status(204).end();
  });
}

/** The bot user GitLab creates for each resource access token: project_<id>_bot_<hex> or group_<id>_bot_<hex>, named after the token. */
function botUser(emu: Emulator, prefix: string, name: string, now: Date): SimUser {
  const username = `${prefix}_bot_${randomBytes(16).toString("hex")}`;
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
