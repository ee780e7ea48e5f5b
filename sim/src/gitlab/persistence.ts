import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { EnvironmentError, OperationError } from "@pifleet/fleet";
import { holdFileLock, writeFileAtomicSync } from "@pifleet/io";
import { type SimState, seedState } from "./state.js";

export const STATE_FILE = "gitlab-state.json";
export const TOKEN_FILE = "gitlab-token";
export const LOCK_FILE = "gitlab.lock";

/** Mode of every file the emulator writes: they hold tokens. */
const PRIVATE = { mode: 0o600 };

/** Reads the state from DIR, or seeds and writes a fresh one on first start. */
export function loadOrSeedState(stateDir: string, now: Date): SimState {
  mkdirSync(stateDir, { recursive: true });
  const file = join(stateDir, STATE_FILE);
  if (!existsSync(file)) {
    const state = seedState(now);
    saveState(stateDir, state);
    return state;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new EnvironmentError(`${file}: not valid JSON (${(err as Error).message}); delete it to start the GitLab emulator afresh`);
  }
  if (typeof parsed !== "object" || parsed === null || (parsed as { version?: unknown }).version !== 1) {
    throw new EnvironmentError(`${file}: not a GitLab emulator state (version 1); delete it to start afresh`);
  }
  return parsed as SimState;
}

export function saveState(stateDir: string, state: SimState): void {
  writeFileAtomicSync(join(stateDir, STATE_FILE), `${JSON.stringify(state, null, 1)}\n`, PRIVATE);
}

/** The admin token file other tools (sim status, tests) read; never printed. */
export function writeTokenFile(stateDir: string, token: string): string {
  const file = join(stateDir, TOKEN_FILE);
  writeFileAtomicSync(file, `${token}\n`, PRIVATE);
  return file;
}

/**
 * One emulator per state dir: two writing the same state file would lose each other's changes.
 * A lock whose process is gone is taken over. Returns the release function.
 */
export function lockStateDir(stateDir: string): () => void {
  try {
    return holdFileLock(join(stateDir, LOCK_FILE));
  } catch (err) {
    if (!(err instanceof OperationError)) throw err;
    throw new EnvironmentError(
      `another GitLab emulator uses ${stateDir}: ${err.message}`,
      "Stop it (pifleet sim down stops the one sim up started) or give this one another --state directory.",
    );
  }
}
