import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { EnvironmentError } from "@pifleet/fleet";
import { type SimState, seedState } from "./state.js";

export const STATE_FILE = "gitlab-state.json";
export const TOKEN_FILE = "gitlab-token";
export const LOCK_FILE = "gitlab.lock";

/**
 * Writes a file so a reader never sees half of it: write a sibling temp file, then rename over the
 * target (rename is atomic within one directory). Mode 0600 because these files hold tokens.
 */
export function writeFileAtomic(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

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
  writeFileAtomic(join(stateDir, STATE_FILE), `${JSON.stringify(state, null, 1)}\n`);
}

/** The admin token file other tools (sim status, tests) read; never printed. */
export function writeTokenFile(stateDir: string, token: string): string {
  const file = join(stateDir, TOKEN_FILE);
  writeFileAtomic(file, `${token}\n`);
  return file;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * One emulator per state dir: two writing the same state file would lose each other's changes.
 * The lock file holds the owner's pid; a lock whose process is gone is taken over.
 * Returns the release function.
 */
export function lockStateDir(stateDir: string): () => void {
  mkdirSync(stateDir, { recursive: true });
  const file = join(stateDir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: "wx", mode: 0o600 });
      return () => rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const owner = Number(readFileSync(file, "utf8").trim());
      if (Number.isInteger(owner) && owner > 0 && processAlive(owner)) {
        throw new EnvironmentError(
          `another GitLab emulator (pid ${owner}) already uses ${stateDir}`,
          "Stop it (pifleet sim down stops the one sim up started) or give this one another --state directory.",
        );
      }
      rmSync(file, { force: true });
    }
  }
  throw new EnvironmentError(`could not lock ${file}; remove it if no GitLab emulator runs`);
}
