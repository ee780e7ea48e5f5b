import { createHash } from "node:crypto";

/**
 * What a stopped job may leave on its node. gitlab-ci-local removes a job's container and volumes when
 * it is stopped (SIGTERM), but only those it already knows of: a `docker create` or `volume create`
 * still in flight at that moment completes after its clean-up, and the container and its volumes stay
 * (seen in CI: a canceled job's container and both volumes left on the node). The executor removes
 * them itself afterwards, telling them by name: gitlab-ci-local names a job's volumes
 * `gcl-<safe job name>-<random job id>-(build|tmp|cert)`; its containers carry no name, so they are
 * found by the volumes they mount.
 */

/** gitlab-ci-local's Utils.safeDockerString: the job's name as it stands in Docker object names. */
export function gclSafeName(jobName: string): string {
  const MAX_FILENAME_LENGTH = 255 - 17;
  const encoded = jobName.replace(/[^\w-]+/g, (match) => Buffer.from(match).toString("base64url"));
  if (encoded.length <= MAX_FILENAME_LENGTH) return encoded;
  const hash = createHash("sha256").update(jobName).digest("hex").substring(0, 16);
  return `${encoded.substring(0, MAX_FILENAME_LENGTH - 1 - hash.length)}-${hash}`;
}

/** The `docker volume ls --filter name=` prefix of a job's volumes (a substring match: jobVolumes checks the whole name). */
export const volumeFilter = (jobName: string) => `gcl-${gclSafeName(jobName)}-`;

/** This job's volumes among `names` (one per line) that were not there before it ran: another run of a job with the same name keeps its own. */
export function leftoverVolumes(names: string, jobName: string, before: ReadonlySet<string>): string[] {
  const own = new RegExp(`^${volumeFilter(jobName).replace(/[^\w-]/g, "\\$&")}\\d+-(build|tmp|cert)$`);
  return names
    .split("\n")
    .map((n) => n.trim())
    .filter((n) => own.test(n) && !before.has(n));
}
