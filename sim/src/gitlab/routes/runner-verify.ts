import { Router } from "express";
import { recordContact } from "../contact.js";
import type { Emulator } from "../context.js";
import { forbidden } from "../errors.js";
import { readParams, requireParam, stringParam } from "../params.js";

/**
 * POST /runners/verify: runner-facing, authenticated by the runner token in the body (no personal
 * token). Like GitLab it heartbeats the runner and upserts the manager for system_id, so calling it
 * marks the runner contacted. 403 for an unknown token. Without a system_id GitLab heartbeats the
 * manager "<legacy>" (lib/api/ci/helpers/runner.rb: `params.fetch(:system_id, LEGACY_SYSTEM_XID)`).
 */
const LEGACY_SYSTEM_ID = "<legacy>";

export function runnerVerifyRouter(emu: Emulator): Router {
  const r = Router();
  r.post("/runners/verify", (req, res) => {
    const p = readParams(req);
    const token = requireParam(stringParam(p, "token"), "token");
    const systemId = stringParam(p, "system_id") ?? LEGACY_SYSTEM_ID;
    const runner = emu.state.runners.find((x) => x.token === token);
    if (!runner) throw forbidden();
    recordContact(emu, runner, { at: emu.now(), systemId, ipAddress: req.ip });
    res.status(200).json({ id: runner.id, token: runner.token, token_expires_at: runner.token_expires_at });
  });
  return r;
}
