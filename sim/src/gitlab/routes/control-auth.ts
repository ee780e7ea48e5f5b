import type { NextFunction, Request, RequestHandler, Response } from "express";
import { CONTROL_SECRET_FILE, CONTROL_SECRET_HEADER, controlSecretMatches } from "../control-secret.js";
import { ApiError } from "../errors.js";

/**
 * Guards /-/sim/…: the request must carry the control secret (control-secret.ts). A sim node or a CI
 * job reaches the gateway the emulator listens on but has no way to the secret, so it gets 401 — also
 * with the admin's or any other GitLab token, which jobs may hold. The answer names where the sim's
 * owner finds the secret, never the secret.
 */
export function requireControlSecret(secret: string): RequestHandler {
  return (req: Request, _res: Response, next: NextFunction) => {
    if (controlSecretMatches(secret, req.get(CONTROL_SECRET_HEADER))) {
      next();
      return;
    }
    next(
      new ApiError(401, {
        message: "401 Unauthorized",
        error: `${req.method} /-/sim${req.path}: the emulator's control API needs the ${CONTROL_SECRET_HEADER} header with the secret the emulator wrote to <state dir>/${CONTROL_SECRET_FILE} at start (0600; \`startGitlabEmulator\` returns it as controlSecret); GitLab tokens do not open it`,
      }),
    );
  };
}
