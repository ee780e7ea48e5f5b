import { existsSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { run } from "@pifleet/io";
import type { Emulator } from "./context.js";
import type { SimProject, SimPushEvent, SimUser } from "./state.js";

/** What git writes for "no commit" in a push's before/after. */
export const ZERO_SHA = "0".repeat(40);

/** "pifleet/infra": the project's path with its namespace, as in its URLs. */
export function pathWithNamespace(emu: Emulator, project: SimProject): string {
  const group = emu.state.groups.find((g) => g.id === project.group_id);
  return `${group?.path ?? "unknown"}/${project.path}`;
}

export const defaultBranch = (project: SimProject): string => project.default_branch ?? "main";

/** The project's bare repository: REPO_ROOT/<namespace>/<project>.git (GIT_PROJECT_ROOT-relative path = URL path). */
export function repositoryDir(emu: Emulator, project: SimProject): string {
  return join(emu.repoRoot, `${pathWithNamespace(emu, project)}.git`);
}

const git = async (dir: string, args: readonly string[], env?: NodeJS.ProcessEnv) =>
  (await run("git", ["--git-dir", dir, ...args], { env: env ? { ...process.env, ...env } : undefined, describe: `git ${args[0]}` })).stdout;

const creating = new Map<string, Promise<string>>();

/** Creates the bare repository on first need (HEAD on the project's default branch, pushes over HTTP allowed). */
export function ensureRepository(emu: Emulator, project: SimProject): Promise<string> {
  const dir = repositoryDir(emu, project);
  if (existsSync(join(dir, "HEAD"))) return Promise.resolve(dir);
  let pending = creating.get(dir);
  if (!pending) {
    pending = (async () => {
      mkdirSync(dirname(dir), { recursive: true });
      await run("git", ["init", "--bare", "--quiet", `--initial-branch=${defaultBranch(project)}`, dir], { describe: "git init --bare" });
      await git(dir, ["config", "http.receivepack", "true"]);
      return dir;
    })().finally(() => creating.delete(dir));
    creating.set(dir, pending);
  }
  return pending;
}

/** The repository if it exists (a project nobody pushed to has none, as an empty GitLab project has no branches). */
export function existingRepository(emu: Emulator, project: SimProject): string | undefined {
  const dir = repositoryDir(emu, project);
  return existsSync(join(dir, "HEAD")) ? dir : undefined;
}

/** Every ref and the object it names. */
export async function refSnapshot(dir: string): Promise<Map<string, string>> {
  const out = await git(dir, ["for-each-ref", "--format=%(refname) %(objectname)"]);
  const refs = new Map<string, string>();
  for (const line of out.split("\n")) {
    const [name, sha] = line.split(" ");
    if (name && sha) refs.set(name, sha);
  }
  return refs;
}

export interface CommitInfo {
  id: string;
  parent_ids: string[];
  title: string;
  message: string;
  author_name: string;
  author_email: string;
  authored_date: string;
  committer_name: string;
  committer_email: string;
  committed_date: string;
}

export interface BranchInfo {
  name: string;
  commit: CommitInfo;
}

const FIELDS = [
  "%(refname:lstrip=2)",
  "%(objectname)",
  "%(parent)",
  "%(subject)",
  "%(authorname)",
  "%(authoremail:trim)",
  "%(authordate:iso-strict)",
  "%(committername)",
  "%(committeremail:trim)",
  "%(committerdate:iso-strict)",
  "%(contents)",
];

/** The branches (refs/heads) with their head commits, sorted by name, read with `git for-each-ref`. */
export async function listBranches(dir: string): Promise<BranchInfo[]> {
  const out = await git(dir, ["for-each-ref", "--sort=refname", `--format=${FIELDS.join("%00")}%1e`, "refs/heads/"]);
  return out
    .split("\x1e")
    .map((record) => record.replace(/^\n/, ""))
    .filter((record) => record.length > 0)
    .map((record) => {
      const [name = "", id = "", parents = "", title = "", an = "", ae = "", ad = "", cn = "", ce = "", cd = "", message = ""] =
        record.split("\0");
      return {
        name,
        commit: {
          id,
          parent_ids: parents.split(" ").filter(Boolean),
          title,
          message,
          author_name: an,
          author_email: ae.replace(/^<|>$/g, ""),
          authored_date: ad,
          committer_name: cn,
          committer_email: ce.replace(/^<|>$/g, ""),
          committed_date: cd,
        },
      };
    });
}

/** Names of the branches whose heads are reachable from `target` (GitLab's `merged` flag against the default branch). */
export async function branchesMergedInto(dir: string, target: string): Promise<Set<string>> {
  const exists = await run("git", ["--git-dir", dir, "rev-parse", "--verify", "--quiet", `refs/heads/${target}`], { allowFailure: true });
  if (exists.code !== 0) return new Set();
  const out = await git(dir, ["for-each-ref", `--merged=refs/heads/${target}`, "--format=%(refname:lstrip=2)", "refs/heads/"]);
  return new Set(out.split("\n").filter(Boolean));
}

/** The head of a branch, or undefined when it does not exist. */
export async function branchHead(dir: string | undefined, branch: string): Promise<string | undefined> {
  if (!dir) return undefined;
  const r = await run("git", ["--git-dir", dir, "rev-parse", "--verify", "--quiet", `refs/heads/${branch}^{commit}`], {
    allowFailure: true,
  });
  return r.code === 0 ? r.stdout.trim() : undefined;
}

/**
 * How many commits a push brought: after's commits not reachable from before; for a new ref, those
 * no ref had before the push (as GitLab counts a new branch's commits); 0 for a deletion.
 */
async function commitsBetween(dir: string, before: string, after: string, known: Iterable<string>): Promise<number> {
  if (after === ZERO_SHA) return 0;
  const range = before === ZERO_SHA ? [after, "--not", ...new Set(known)] : [`${before}..${after}`];
  const r = await run("git", ["--git-dir", dir, "rev-list", "--count", ...range], { allowFailure: true });
  return r.code === 0 ? Number(r.stdout.trim()) : 0;
}

/** Records one push event per changed ref (the state pipelines will be triggered from); returns them. */
export async function recordPushes(
  emu: Emulator,
  project: SimProject,
  user: SimUser,
  dir: string,
  before: Map<string, string>,
  after: Map<string, string>,
): Promise<SimPushEvent[]> {
  const names = [...new Set([...before.keys(), ...after.keys()])].filter((n) => before.get(n) !== after.get(n)).sort();
  const events: SimPushEvent[] = [];
  for (const ref of names) {
    if (!ref.startsWith("refs/heads/") && !ref.startsWith("refs/tags/")) continue;
    const from = before.get(ref) ?? ZERO_SHA;
    const to = after.get(ref) ?? ZERO_SHA;
    const tag = ref.startsWith("refs/tags/");
    events.push({
      id: 0,
      object_kind: tag ? "tag_push" : "push",
      event_name: tag ? "tag_push" : "push",
      ref,
      before: from,
      after: to,
      checkout_sha: to === ZERO_SHA ? null : to,
      user_id: user.id,
      user_username: user.username,
      project_id: project.id,
      total_commits_count: await commitsBetween(dir, from, to, before.values()),
      created_at: emu.now().toISOString(),
    });
  }
  if (events.length > 0) {
    emu.state.pushEvents ??= [];
    for (const event of events) {
      event.id = emu.state.pushEvents.length + 1;
      emu.state.pushEvents.push(event);
    }
    emu.save();
  }
  return events;
}

/** One at a time per repository: pushes and merges, so each event's before/after is exactly its own change. */
const queues = new Map<string, Promise<unknown>>();
export function serialized<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const previous = queues.get(dir) ?? Promise.resolve();
  const next = previous.then(fn, fn);
  const settled = next.catch(() => {});
  queues.set(dir, settled);
  void settled.then(() => {
    if (queues.get(dir) === settled) queues.delete(dir);
  });
  return next;
}

export type MergeOutcome = { kind: "merged"; sha: string; before: string } | { kind: "conflict" } | { kind: "moved" };

/** True when `source` can be merged into `target` without conflicts (git merge-tree, nothing written to refs). */
export async function canMerge(dir: string, target: string, source: string): Promise<boolean> {
  const r = await run("git", ["--git-dir", dir, "merge-tree", "--write-tree", "--no-messages", target, source], { allowFailure: true });
  return r.code === 0;
}

/**
 * GitLab's default merge method ("merge commit"): always a merge commit, made without a work tree
 * (`git merge-tree --write-tree`, `commit-tree`), and the target ref moved only if it still is at
 * `target` (update-ref's old-value check).
 */
export async function mergeCommit(
  dir: string,
  targetBranch: string,
  target: string,
  source: string,
  message: string,
  user: SimUser,
  at: Date,
): Promise<MergeOutcome> {
  const tree = await run("git", ["--git-dir", dir, "merge-tree", "--write-tree", "--no-messages", target, source], { allowFailure: true });
  if (tree.code !== 0) return { kind: "conflict" };
  const treeId = tree.stdout.split("\n")[0]?.trim() ?? "";
  const when = `${Math.floor(at.getTime() / 1000)} +0000`;
  const env = {
    GIT_AUTHOR_NAME: user.name,
    GIT_AUTHOR_EMAIL: user.email,
    GIT_AUTHOR_DATE: when,
    GIT_COMMITTER_NAME: user.name,
    GIT_COMMITTER_EMAIL: user.email,
    GIT_COMMITTER_DATE: when,
  };
  const sha = (
    await run("git", ["--git-dir", dir, "commit-tree", treeId, "-p", target, "-p", source, "-F", "-"], {
      input: message,
      env: { ...process.env, ...env },
      describe: "git commit-tree",
    })
  ).stdout.trim();
  const moved = await run("git", ["--git-dir", dir, "update-ref", `refs/heads/${targetBranch}`, sha, target], { allowFailure: true });
  if (moved.code !== 0) return { kind: "moved" };
  return { kind: "merged", sha, before: target };
}

/** Deletes a branch (should_remove_source_branch); false when it had moved or was gone. */
export async function deleteBranch(dir: string, branch: string, expected: string): Promise<boolean> {
  const r = await run("git", ["--git-dir", dir, "update-ref", "-d", `refs/heads/${branch}`, expected], { allowFailure: true });
  return r.code === 0;
}
