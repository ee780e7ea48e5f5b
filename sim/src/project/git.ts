import { existsSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { InputError, OperationError } from "@pifleet/fleet";
import { type ExecOptions, run, type Secret } from "@pifleet/io";
import { splitNul, workingTreeFiles } from "./layout.js";

/**
 * The sim project's local repository (bare, `<simdir>/project`) and the two things done with it:
 * build a commit whose tree is the working tree of another repository plus a few written files,
 * and push it to the emulator. git runs with no user or system configuration, so what this
 * machine's ~/.gitconfig says cannot change the tree or leak a credential into a push.
 */

const AUTHOR = { name: "pifleet sim", email: "sim@pifleet.invalid" };

function isolatedEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LC_ALL: "C",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_TERMINAL_PROMPT: "0",
    // Paths from ls-files are names, never globs.
    GIT_LITERAL_PATHSPECS: "1",
    ...extra,
  };
}

async function git(projectDir: string, args: readonly string[], options: ExecOptions & { extraEnv?: NodeJS.ProcessEnv } = {}) {
  const { extraEnv, ...rest } = options;
  const result = await run("git", ["--git-dir", projectDir, ...args], {
    env: isolatedEnv(extraEnv),
    describe: `git ${args[0]} in ${projectDir}`,
    timeoutMs: 120_000,
    ...rest,
  });
  return result.stdout.trim();
}

/** `<simdir>/project`, created bare with the project's default branch as HEAD when missing. */
export async function ensureProjectRepo(projectDir: string, defaultBranch: string): Promise<void> {
  if (existsSync(join(projectDir, "HEAD"))) return;
  await run("git", ["init", "--quiet", "--bare", `--initial-branch=${defaultBranch}`, projectDir], {
    env: isolatedEnv(),
    describe: `git init ${projectDir}`,
  });
}

/** The top of the git work tree that holds `dir` (ls-files from a subfolder would list only that folder). */
export async function repositoryRoot(dir: string): Promise<string> {
  const r = await run("git", ["-C", dir, "rev-parse", "--show-toplevel"], { allowFailure: true });
  if (r.code !== 0) throw new InputError(`${dir} is not in a git repository`, "Pass --repo with the pifleet repository's folder.");
  return r.stdout.trim();
}

/** The files of repoRoot's working tree that git tracks (uncommitted edits included, untracked files not). */
export async function trackedWorkingFiles(repoRoot: string, written: readonly string[]): Promise<string[]> {
  const ls = (extra: string[]) =>
    run("git", ["-C", repoRoot, "ls-files", "-z", ...extra], { describe: `git ls-files in ${repoRoot}` }).then((r) => splitNul(r.stdout));
  const [tracked, deleted] = await Promise.all([ls(["--cached"]), ls(["--deleted"])]);
  if (tracked.length === 0) {
    throw new OperationError(`${repoRoot} tracks no files`, "Run `pifleet sim push` from the pifleet repository (or pass its root).");
  }
  return workingTreeFiles(tracked, deleted, written);
}

export interface CommitSpec {
  projectDir: string;
  /** The working tree the files are read from. */
  repoRoot: string;
  files: readonly string[];
  /** Written into the tree as regular files, replacing anything at the same path. */
  written: readonly { path: string; content: string }[];
  parent: string | null;
  message: string;
}

export interface BuiltCommit {
  sha: string;
  tree: string;
  /** The tree differs from the parent's (false: an empty commit, the push changes nothing). */
  changed: boolean;
}

/**
 * A commit whose tree is exactly `files` as they are in repoRoot plus `written`. Built in a scratch
 * index with repoRoot as the work tree, so nothing is copied and repoRoot's own index is untouched.
 * Always a new commit, even with the parent's tree: a push of nothing new still runs a pipeline.
 */
export async function buildCommit(spec: CommitSpec): Promise<BuiltCommit> {
  const index = join(spec.projectDir, "pifleet-push.index");
  const env = { GIT_INDEX_FILE: index, GIT_WORK_TREE: spec.repoRoot };
  try {
    await git(spec.projectDir, ["read-tree", "--empty"], { extraEnv: env });
    await git(spec.projectDir, ["add", "--force", "--pathspec-from-file=-", "--pathspec-file-nul"], {
      extraEnv: env,
      cwd: spec.repoRoot,
      input: spec.files.map((f) => `${f}\0`).join(""),
    });
    for (const file of spec.written) {
      const blob = await git(spec.projectDir, ["hash-object", "-w", "--stdin"], { input: file.content });
      await git(spec.projectDir, ["update-index", "--add", "--cacheinfo", `100644,${blob},${file.path}`], { extraEnv: env });
    }
    const tree = await git(spec.projectDir, ["write-tree"], { extraEnv: env });
    const parentTree = spec.parent ? await git(spec.projectDir, ["rev-parse", `${spec.parent}^{tree}`]) : null;
    const sha = await git(spec.projectDir, ["commit-tree", tree, ...(spec.parent ? ["-p", spec.parent] : []), "-F", "-"], {
      input: `${spec.message}\n`,
      extraEnv: {
        GIT_AUTHOR_NAME: AUTHOR.name,
        GIT_AUTHOR_EMAIL: AUTHOR.email,
        GIT_COMMITTER_NAME: AUTHOR.name,
        GIT_COMMITTER_EMAIL: AUTHOR.email,
      },
    });
    return { sha, tree, changed: tree !== parentTree };
  } finally {
    await rm(index, { force: true });
  }
}

/**
 * How git asks for the password: a credential helper that reads it from the environment of this
 * one git process. The token is never in argv, in a URL, or in a file.
 */
function credentialEnv(token: Secret): NodeJS.ProcessEnv {
  return {
    PIFLEET_GIT_TOKEN: token.reveal(),
    GIT_CONFIG_COUNT: "1",
    GIT_CONFIG_KEY_0: "credential.helper",
    GIT_CONFIG_VALUE_0: `!f() { test "$1" = get && printf 'username=pifleet\\npassword=%s\\n' "$PIFLEET_GIT_TOKEN"; }; f`,
  };
}

/** The heads of these branches on the remote (absent ones are missing from the map). */
export async function remoteHeads(
  projectDir: string,
  url: string,
  token: Secret,
  branches: readonly string[],
): Promise<Map<string, string>> {
  const out = await git(projectDir, ["ls-remote", url, ...branches.map((b) => `refs/heads/${b}`)], { extraEnv: credentialEnv(token) });
  const heads = new Map<string, string>();
  for (const line of out.split("\n")) {
    const [sha, ref] = line.split("\t");
    if (sha && ref?.startsWith("refs/heads/")) heads.set(ref.slice("refs/heads/".length), sha);
  }
  return heads;
}

/** Brings a remote commit into the local repository (to build on it). */
export async function fetchCommit(projectDir: string, url: string, token: Secret, branch: string): Promise<void> {
  await git(projectDir, ["fetch", "--quiet", "--no-tags", url, `+refs/heads/${branch}:refs/remotes/sim/${branch}`], {
    extraEnv: credentialEnv(token),
  });
}

/** Records the commit as the local branch and pushes it to the remote branch. */
export async function pushCommit(projectDir: string, url: string, token: Secret, sha: string, branch: string): Promise<void> {
  await git(projectDir, ["update-ref", `refs/heads/${branch}`, sha]);
  await git(projectDir, ["push", "--quiet", url, `${sha}:refs/heads/${branch}`], { extraEnv: credentialEnv(token) });
}
