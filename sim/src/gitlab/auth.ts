import type { NextFunction, Request, RequestHandler, Response } from "express";
import type { Caller, Emulator } from "./context.js";
import { insufficientScope, unauthorized } from "./errors.js";
import type { Scope } from "./state.js";
import { tokenOwner } from "./token-model.js";

/** The personal access token of a request: PRIVATE-TOKEN header, or OAuth-style Authorization: Bearer. */
export function tokenOf(req: Request): string | undefined {
  const header = req.get("private-token");
  if (header) return header.trim();
  const bearer = /^Bearer\s+(\S+)$/i.exec(req.get("authorization") ?? "");
  return bearer?.[1];
}

/** 401 {"message":"401 Unauthorized"} for a missing, unknown, revoked or expired token, as GitLab answers. */
export function authenticate(emu: Emulator): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const presented = tokenOf(req);
    const found: Caller | undefined = presented ? tokenOwner(emu.state, presented, emu.now()) : undefined;
    if (!found) throw unauthorized();
    res.locals.caller = found;
    next();
  };
}

/**
 * Scope check, GitLab's rule: `api` opens everything, `read_api` opens GET/HEAD, and a route may
 * admit extra scopes (`manage_runner` on /runners/:id…, `create_runner` on POST /user/runners,
 * `read_user` on GET /user). Fails with 403 insufficient_scope listing what would have worked.
 */
export function allowScopes(...extra: Scope[]): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const readOnly = req.method === "GET" || req.method === "HEAD";
    const allowed: Scope[] = ["api", ...(readOnly ? (["read_api"] as const) : []), ...extra];
    const { token } = res.locals.caller as Caller;
    if (token.scopes.some((s) => allowed.includes(s))) {
      next();
      return;
    }
    throw insufficientScope(allowed);
  };
}
