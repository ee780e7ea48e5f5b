import type { Response } from "express";
import type { FaultQueue } from "./faults.js";
import type { RequestLog } from "./request-log.js";
import type { SimState, SimToken, SimUser } from "./state.js";

/** What every router gets: the state, a clock, a way to persist after a change, and the control-plane helpers. */
export interface Emulator {
  state: SimState;
  now(): Date;
  /** The emulator's own URL (scheme, host, port), for web_url fields. */
  baseUrl(): string;
  /** Persists the state (atomically) after a mutation; a no-op when the emulator runs without a state dir. */
  save(): void;
  faults: FaultQueue;
  requests: RequestLog;
  /** Where the projects' bare git repositories live (git-http.ts): DIR/repositories, or a temporary dir without a state dir. */
  repoRoot: string;
  /** Where the jobs' artifacts are kept (artifacts.ts): DIR/artifacts, or a temporary dir without a state dir. */
  artifactRoot: string;
}

export interface Caller {
  user: SimUser;
  token: SimToken;
}

/** The authenticated caller, set by auth.ts before any /api/v4 route runs. */
export function caller(res: Response): Caller {
  const found = res.locals.caller as Caller | undefined;
  if (!found) throw new Error("route reached without authentication; mount it after authenticate()");
  return found;
}
