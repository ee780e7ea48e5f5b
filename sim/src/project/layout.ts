/**
 * Where things go in the sim's GitLab project, and which files a push commits. Pure.
 *
 * The emulator seeds the project `pifleet/infra` with default branch `main` (gitlab/state.ts;
 * a test holds the two together): `sim push` sends the repository there, as a person would
 * push their infrastructure repository to their GitLab.
 */
export const SIM_PROJECT_PATH = "pifleet/infra";
export const SIM_DEFAULT_BRANCH = "main";

/** In the pushed tree: the sim's fleet file and the known_hosts it names (relatively, `./known_hosts`), side by side. */
export const SIM_PROJECT_FLEET_FILE = "fleet/sim/fleet.yaml";
export const SIM_PROJECT_KNOWN_HOSTS = "fleet/sim/known_hosts";
/** Regenerated for the sim's fleet on every push (the repository's own is generated for examples/fleet.yaml). */
export const PIPELINE_FILE = ".gitlab-ci.yml";

/** The project's git URL on the emulator (GitLab's `/<namespace>/<project>.git`); it never carries a token. */
export function projectGitUrl(gitlabUrl: string): string {
  return `${gitlabUrl.replace(/\/+$/, "")}/${SIM_PROJECT_PATH}.git`;
}

/**
 * The repository's files a push takes from the working tree: what git tracks (`ls-files`), minus
 * tracked files deleted in the working tree (a delete not yet committed is still a delete), minus the
 * paths the push writes itself. Sorted, as git lists them.
 */
export function workingTreeFiles(tracked: readonly string[], deleted: readonly string[], written: readonly string[]): string[] {
  const skip = new Set([...deleted, ...written]);
  return [...new Set(tracked)].filter((f) => !skip.has(f)).sort();
}

/** NUL-separated output of `git ls-files -z` → paths. */
export function splitNul(text: string): string[] {
  return text.split("\0").filter((p) => p !== "");
}
