import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PIFLEET_BIN } from "./run-cli.js";

/** Runs on node's module-hooks thread: appends every resolved module URL to the file named by the env var. */
const RECORD_RESOLUTIONS = `
import { appendFileSync } from "node:fs";
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(process.env.PIFLEET_TEST_LOADS, result.url + "\\n");
  return result;
}`;
const PRELOAD = `import { register } from "node:module"; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(RECORD_RESOLUTIONS)}`)});`;

/** Every module URL `pifleet ARGS` resolves, as the built binary runs (plain node, no vitest transform). */
export function modulesLoadedBy(args: string[]): { code: number | null; modules: string[] } {
  const dir = mkdtempSync(join(tmpdir(), "pifleet-loads-"));
  const file = join(dir, "loads.txt");
  try {
    const r = spawnSync(process.execPath, ["--import", `data:text/javascript,${encodeURIComponent(PRELOAD)}`, PIFLEET_BIN, ...args], {
      encoding: "utf8",
      env: { ...process.env, NO_COLOR: "1", PIFLEET_TEST_LOADS: file },
    });
    return { code: r.status, modules: readFileSync(file, "utf8").split("\n").filter(Boolean) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
