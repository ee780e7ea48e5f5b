import { readdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";

/**
 * gitlab-ci-local 4.73 writes every file variable of EVERY job of the pipeline (not only the one it
 * runs) to /tmp/gitlab-ci-local-file-variables-undefined-<random id>/ while it parses the file (the
 * Job constructor asks for the dir before the project slug is known), and never removes those dirs;
 * the one it really uses (…-<project slug>-<id>) it removes itself. runJob runs it under umask 077,
 * so they are readable by this user only; this sweeps them. Nothing ever reads an `undefined` dir
 * again, but another run may be writing one just now, so only dirs older than `minAgeMs` go.
 */
const LITTER = /^gitlab-ci-local-file-variables-undefined-\d+$/;

export async function sweepFileVariableLitter(minAgeMs: number, now = Date.now(), tmp = "/tmp"): Promise<number> {
  const names = (await readdir(tmp).catch(() => [] as string[])).filter((n) => LITTER.test(n));
  let removed = 0;
  for (const name of names) {
    const path = join(tmp, name);
    const info = await stat(path).catch(() => undefined);
    if (!info || now - info.mtimeMs < minAgeMs) continue;
    await rm(path, { recursive: true, force: true });
    removed++;
  }
  return removed;
}
