import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { run } from "@pifleet/io";
import { projectCacheDir, STATE_DIR } from "./checkout.js";

/**
 * Caches outlive a pipeline, as a runner keeps them: the project's cache dir holds them between
 * pipelines, and each job works on a copy in its checkout's state dir (.gitlab-ci-local/cache).
 * A link would be cheaper, but gitlab-ci-local copies a job's cache out with `docker cp`, which
 * refuses to write through a symlink ("cannot overwrite non-directory"). rsync without --delete:
 * copies running side by side only ever rename whole files into place.
 */
async function sync(from: string, to: string, what: string): Promise<void> {
  if (!existsSync(from)) return;
  await mkdir(to, { recursive: true });
  await run("rsync", ["-a", `${from}/`, `${to}/`], { describe: what });
}

export function cacheIntoCheckout(checkoutDir: string): Promise<void> {
  return sync(projectCacheDir(checkoutDir), join(checkoutDir, STATE_DIR, "cache"), "rsync of the project's caches into the checkout");
}

export function cacheOutOfCheckout(checkoutDir: string): Promise<void> {
  return sync(
    join(checkoutDir, STATE_DIR, "cache"),
    projectCacheDir(checkoutDir),
    "rsync of the job's caches into the project's cache dir",
  );
}
