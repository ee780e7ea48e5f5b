import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The built binary, as a user runs it (`npm test` builds first). */
export const PIFLEET_BIN = fileURLToPath(new URL("../../bin/pifleet.js", import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `pifleet ARGS` to completion without colour. `unset` drops variables a
 * developer's shell may carry (PIFLEET_FLEET, PIFLEET_SIM_DIR) that would change
 * the defaults under test.
 */
export function runCli(args: string[], options: { cwd?: string; unset?: string[] } = {}): CliResult {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1" };
  for (const name of options.unset ?? []) delete env[name];
  const r = spawnSync(process.execPath, [PIFLEET_BIN, ...args], { cwd: options.cwd, encoding: "utf8", env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
