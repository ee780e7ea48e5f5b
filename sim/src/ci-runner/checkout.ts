import { existsSync } from "node:fs";
import { appendFile, chmod, mkdir, readFile, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { InputError } from "@pifleet/fleet";
import { run, withFileLock, writeFileAtomic } from "@pifleet/io";

/**
 * A pipeline's working copy, where gitlab-ci-local runs each of its jobs: the commit checked out,
 * and gitlab-ci-local's state dir (.gitlab-ci-local/) through which artifacts pass from job to job.
 */

export interface CheckoutOptions {
  /** The emulator's bare repository of the project. */
  repoDir: string;
  /** The pipeline's commit. */
  sha: string;
  /** Becomes the checkout; its parent holds the project's shared cache dir (projectCacheDir). */
  dir: string;
  defaultBranch: string;
  /**
   * What `rules:changes` compares against (a push's before-sha, an MR's target): becomes
   * `origin/<defaultBranch>`, which gitlab-ci-local diffs against. Undefined for a branch's first
   * push: then every `rules:changes` is true, as in GitLab.
   */
  changesBase?: string;
  /**
   * The project's URL (e.g. `http://198.19.255.1:8080/pifleet/infra`): gitlab-ci-local takes the
   * project's namespace and path from it (CI_PROJECT_DIR = /builds/<namespace>/<project>). Default:
   * the repository's last two path segments on a placeholder host.
   */
  projectUrl?: string;
}

export interface PipelineCheckout {
  dir: string;
  sha: string;
  /** false: run gitlab-ci-local with --no-evaluate-rule-changes (runJob's `evaluateChanges`). */
  evaluateChanges: boolean;
  /** Shared by every pipeline of the project: runJob copies it into the checkout's state dir and back. */
  cacheDir: string;
}

/** Written last: a checkout without it was cut short and is made again. */
const MARKER = ".git/pifleet-checkout.json";

/** gitlab-ci-local's state dir (its default, relative to the checkout). */
export const STATE_DIR = ".gitlab-ci-local";

const git = (dir: string, args: readonly string[]) => run("git", ["-C", dir, ...args], { describe: `git ${args[0]} in ${dir}` });

/** The project's cache dir, next to its pipelines' checkouts: caches outlive a pipeline, as a runner keeps them. */
export function projectCacheDir(checkoutDir: string): string {
  return join(dirname(checkoutDir), "cache");
}

/** Where gitlab-ci-local reads the project's namespace and path, when the caller gives no URL. */
export function placeholderProjectUrl(repoDir: string): string {
  const project = basename(repoDir).replace(/\.git$/, "");
  const namespace = basename(dirname(repoDir));
  return `http://gitlab.sim.invalid/${namespace}/${project}.git`;
}

interface Marker {
  sha: string;
  defaultBranch: string;
  changesBase: string | null;
}

async function readMarker(dir: string): Promise<Marker | undefined> {
  const text = await readFile(join(dir, MARKER), "utf8").catch(() => undefined);
  return text === undefined ? undefined : (JSON.parse(text) as Marker);
}

/**
 * Makes `dir` a checkout of `sha` for gitlab-ci-local, or returns the one made before for the same
 * pipeline (concurrent calls for one dir wait for each other). A dir that holds another commit is
 * an error: each pipeline gets its own dir.
 */
export async function preparePipelineCheckout(options: CheckoutOptions): Promise<PipelineCheckout> {
  const { dir, sha, defaultBranch } = options;
  const wanted: Marker = { sha, defaultBranch, changesBase: options.changesBase ?? null };
  const result: PipelineCheckout = {
    dir,
    sha,
    evaluateChanges: options.changesBase !== undefined,
    cacheDir: projectCacheDir(dir),
  };
  await mkdir(dirname(dir), { recursive: true });
  return withFileLock(
    `${dir}.lock`,
    async () => {
      const made = await readMarker(dir);
      if (made) {
        if (JSON.stringify(made) !== JSON.stringify(wanted))
          throw new InputError(
            `${dir} already holds the checkout of ${made.sha} (changes against ${made.changesBase ?? "nothing"}), not of ${sha}`,
            "Give each pipeline its own checkout dir.",
          );
        return result;
      }
      if (existsSync(dir)) await rm(dir, { recursive: true, force: true });
      await makeCheckout(options, result.cacheDir);
      await writeFileAtomic(join(dir, MARKER), `${JSON.stringify(wanted)}\n`);
      return result;
    },
    { timeoutMs: 5 * 60_000 },
  );
}

async function makeCheckout(options: CheckoutOptions, cacheDir: string): Promise<void> {
  const { repoDir, dir, sha, defaultBranch } = options;
  // --shared: the objects stay in the emulator's repository (alternates), so a checkout costs only its files.
  await run("git", ["clone", "--quiet", "--shared", "--no-checkout", repoDir, dir], { describe: `git clone of ${repoDir}` });
  // The checkout holds the jobs' unmasked output logs (.gitlab-ci-local/output): for this user only.
  await chmod(dir, 0o700);
  // Detached, as gitlab-runner checks a job's commit out; CI_COMMIT_* come from the caller's variables.
  await git(dir, ["checkout", "--quiet", "--detach", sha]);
  // gitlab-ci-local's rules:changes is `git diff --name-only origin/<default branch>`, and it reads the
  // default branch from origin/HEAD.
  await git(dir, ["update-ref", `refs/remotes/origin/${defaultBranch}`, options.changesBase ?? sha]);
  await git(dir, ["symbolic-ref", "refs/remotes/origin/HEAD", `refs/remotes/origin/${defaultBranch}`]);
  // gitlab-ci-local reads the project's namespace and path from this remote before `origin`.
  await git(dir, ["remote", "add", "gcl-origin", options.projectUrl ?? placeholderProjectUrl(repoDir)]);
  await mkdir(join(dir, STATE_DIR), { recursive: true });
  // The state dir is no file of the pipeline's (gitlab-ci-local puts a .gitignore into it on its first job).
  await mkdir(join(dir, ".git", "info"), { recursive: true });
  await appendFile(join(dir, ".git", "info", "exclude"), `/${STATE_DIR}/\n`);
  await mkdir(cacheDir, { recursive: true });
  await mkdir(join(dir, STATE_DIR, "cache"));
  // Every job run starts with this same rsync into builds/.docker, which its container copies from.
  // Two first runs side by side would race on rsync's temporary files (each deleting the other's);
  // done once here, theirs find nothing to change. The command is gitlab-ci-local 4.73's
  // Utils.rsyncTrackedFiles, so the result is exactly what it would make.
  await mkdir(join(dir, STATE_DIR, "builds", ".docker"), { recursive: true });
  await run(
    "bash",
    [
      "-c",
      `rsync -a --delete-excluded --delete --exclude-from=<(git ls-files -o --directory | awk '{print "/"$0}') --exclude ${STATE_DIR}/ ./ ${STATE_DIR}/builds/.docker/`,
    ],
    { cwd: dir, describe: "rsync of the tracked files into the checkout's build copy" },
  );
}
