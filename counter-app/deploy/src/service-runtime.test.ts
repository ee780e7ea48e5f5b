import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

/** The built entry, as the CLI loads it (node, not vitest: no "source" condition, no transform). */
const ENTRY = fileURLToPath(new URL("../dist/index.js", import.meta.url));
const SERVICE_RUNTIME = ["express", "redis", "@redis", "pino", "prom-client"];

/**
 * Imports ENTRY in a fresh node and prints every module it loaded: ESM
 * resolutions through a loader hook (they run on the hooks thread and post
 * each URL back), CommonJS ones from require.cache.
 */
const LIST_LOADS = `
import { createRequire, register } from "node:module";
import { MessageChannel } from "node:worker_threads";
const { port1, port2 } = new MessageChannel();
const loaded = new Set();
port1.on("message", (url) => loaded.add(url));
const hook = \`let port;
export function initialize(data) { port = data.port; }
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  port.postMessage(result.url);
  return result;
}\`;
register("data:text/javascript," + encodeURIComponent(hook), { data: { port: port2 }, transferList: [port2] });
await import(process.argv[1]);
await new Promise((r) => setTimeout(r, 100));
for (const file of Object.keys(createRequire(import.meta.url).cache)) loaded.add(file);
port1.close();
process.stdout.write(JSON.stringify([...loaded]));
`;

describe("@pifleet/counter-deploy", () => {
  it("loads none of the service's runtime dependencies (the CLI's app commands stay light)", async () => {
    expect(existsSync(ENTRY), `${ENTRY} is missing: run npx tsc -b first`).toBe(true);
    const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", LIST_LOADS, ENTRY]);
    const loaded = JSON.parse(stdout) as string[];
    // The listing works: the deploy code itself and its own dependency show up.
    expect(loaded.some((url) => url.includes("/counter-app/deploy/dist/deploy/deploy.js"))).toBe(true);
    expect(loaded.some((url) => url.includes("/node_modules/yaml/"))).toBe(true);
    const runtime = loaded.filter((url) => SERVICE_RUNTIME.some((dep) => url.includes(`/node_modules/${dep}/`)));
    expect(runtime).toEqual([]);
  });
});
