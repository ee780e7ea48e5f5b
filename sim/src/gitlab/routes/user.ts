import { Router } from "express";
import { allowScopes } from "../auth.js";
import { caller, type Emulator } from "../context.js";
import { presentUserBasic } from "../present.js";
import { SCOPES } from "../state.js";
import { presentToken } from "../token-model.js";

/** The version this emulator answers with; runner-manager only needs a well-formed value. */
export const EMULATED_VERSION = "18.6.0";

/**
 * GET /version, GET /user (the token's owner, with the admin-only fields an admin sees) and
 * GET /personal_access_tokens/self (the token itself, personal or project; any scope may read it).
 */
export function userRouter(emu: Emulator): Router {
  const r = Router();
  r.get("/version", allowScopes("read_user"), (_req, res) => {
    res.json({
      version: EMULATED_VERSION,
      revision: "pifleetsim",
      kas: { enabled: false, externalUrl: null, version: null },
      enterprise: false,
    });
  });
  r.get("/user", allowScopes("read_user"), (_req, res) => {
    const { user } = caller(res);
    res.json({
      ...presentUserBasic(user, emu.baseUrl()),
      created_at: user.created_at,
      bio: "",
      location: "",
      public_email: null,
      email: user.email,
      bot: user.bot ?? false,
      external: false,
      two_factor_enabled: false,
      is_admin: user.is_admin,
    });
  });
  // lib/api/personal_access_tokens/self_information.rb: every scope may see itself; Entities::PersonalAccessToken.
  r.get("/personal_access_tokens/self", allowScopes(...SCOPES), (_req, res) => {
    res.json(presentToken(caller(res).token, emu.now()));
  });
  return r;
}
