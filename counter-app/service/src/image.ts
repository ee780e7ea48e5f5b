import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * What the counter's images are built from, for the image builder in
 * @pifleet/counter-deploy. Only node built-ins are imported here, so the deploy
 * side can read it without loading the service's runtime dependencies.
 */

/** counter-app/service/, the same from src/ and dist/. */
export const SERVICE_DIR = fileURLToPath(new URL("../", import.meta.url));

/** The Dockerfiles, one folder per image: app/, node-base/, lb/. */
export const IMAGE_RECIPES_DIR = join(SERVICE_DIR, "images");

/** The compiled app the app image runs (dist/app/*.js). */
export const APP_DIST_DIR = join(SERVICE_DIR, "dist", "app");

/** What dist/app needs at run time. */
const RUNTIME_DEPENDENCIES = ["express", "pino", "prom-client", "redis", "zod"] as const;

/** The exact versions installed (and tested) here, for the image's package.json. */
export function runtimeDependencyVersions(): Record<string, string> {
  const require = createRequire(join(SERVICE_DIR, "package.json"));
  return Object.fromEntries(
    RUNTIME_DEPENDENCIES.map((d) => [
      d,
      (JSON.parse(readFileSync(require.resolve(`${d}/package.json`), "utf8")) as { version: string }).version,
    ]),
  );
}

/** The service's own version, the image package.json's version. */
export function serviceVersion(): string {
  return (JSON.parse(readFileSync(join(SERVICE_DIR, "package.json"), "utf8")) as { version: string }).version;
}
