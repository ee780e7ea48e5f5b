import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { EnvironmentError } from "@pifleet/fleet";
import { writeFileAtomicSync } from "@pifleet/io";

/**
 * The control API's credential. The admin token cannot be it: `sim push` hands admin `api` tokens to
 * CI jobs through project variables, and nodes reach the emulator on the sim gateway. So the emulator
 * makes a secret of its own out of band, at every start — in memory, and with a state dir in a 0600
 * file there (only the sim's owner reads it) — and `/-/sim/…` answers only requests carrying it in
 * this header. It never appears in argv, logs or printed output.
 */
export const CONTROL_SECRET_HEADER = "X-Pifleet-Sim-Control";
export const CONTROL_SECRET_FILE = "control-secret";

/** 32 random bytes, hex: a fresh one each start, so a secret seen once dies with that process. */
export function newControlSecret(): string {
  return randomBytes(32).toString("hex");
}

/** Where an emulator with this state dir keeps its secret. */
export function controlSecretPath(stateDir: string): string {
  return join(stateDir, CONTROL_SECRET_FILE);
}

/** Writes the secret to DIR/control-secret (0600, atomically) and returns the file's path. */
export function writeControlSecret(stateDir: string, secret: string): string {
  const file = controlSecretPath(stateDir);
  writeFileAtomicSync(file, `${secret}\n`, { mode: 0o600 });
  return file;
}

/** The secret a running emulator wrote (for clients on this machine: `sim up`, `sim push`, tests). */
export function readControlSecret(file: string): string {
  try {
    return readFileSync(file, "utf8").trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    throw new EnvironmentError(
      `the GitLab emulator's control secret ${file} is missing: that emulator is not running, or predates the control secret`,
      "Restart it: `pifleet sim up` (with the sim's --dir) starts a stopped emulator; for an old one, `pifleet sim down` then `pifleet sim up`.",
    );
  }
}

/** The header a control-API request carries. */
export function controlHeaders(secret: string): Record<string, string> {
  return { [CONTROL_SECRET_HEADER]: secret };
}

/** The header for a sim's emulator, its secret read from the file `sim status` names (gitlab.controlSecretFile). */
export function simControlHeaders(gitlab: { controlSecretFile: string } | null | undefined): Record<string, string> {
  if (!gitlab) throw new Error("this sim has no GitLab emulator (it was started with --no-gitlab), so no control API");
  return controlHeaders(readControlSecret(gitlab.controlSecretFile));
}

/**
 * Whether the presented value is the secret, in constant time: both sides are hashed first, so
 * neither the length nor a common prefix of a guess shows in the time taken.
 */
export function controlSecretMatches(expected: string, presented: string | undefined): boolean {
  if (presented === undefined || expected.length === 0) return false;
  const digest = (s: string) => createHash("sha256").update(s, "utf8").digest();
  return timingSafeEqual(digest(expected), digest(presented));
}
