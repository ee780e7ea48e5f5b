import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { run, Secret } from "@pifleet/io";
import { mintToken, type PipelineBasic, revokeToken, tokenFor, waitForPipeline } from "./emulator-api.js";
import { buildCommit, ensureProjectRepo, fetchCommit, pushCommit, remoteHeads, repositoryRoot, trackedWorkingFiles } from "./git.js";
import { PIPELINE_FILE, projectGitUrl, SIM_DEFAULT_BRANCH, SIM_PROJECT_FLEET_FILE, SIM_PROJECT_KNOWN_HOSTS } from "./layout.js";
import { type SimGitlabTarget, simGitlabTarget } from "./target.js";
import { desiredVariables } from "./variables.js";
import { applyVariables, listVariables, noteTokenFor } from "./variables-api.js";

export interface SimPushOptions {
  /** The sim's directory (its fleet file, key, known_hosts and emulator). */
  dir: string;
  /** The repository whose working tree is pushed (git-tracked files only). */
  repoRoot: string;
  /** Commit message; default names repoRoot's HEAD and whether it had uncommitted changes. */
  message?: string;
  /** Branch to push to; default the project's default branch (whose push runs the deploy pipeline). */
  branch?: string;
  /** The fleet file to push instead of the sim's own (e.g. one without a Pi, for a scale-in MR); it names the sim's known_hosts the same way. */
  fleetFile?: string;
  /** Image variables → mirror refs in the cluster registry (`simMirror().images`); none: left as they are. */
  images?: Readonly<Record<string, string>>;
  /**
   * The .gitlab-ci.yml for the sim's fleet. The generator lives in @pifleet/pipelines, which sim may not
   * import, so the caller passes it: `fleetFile` is the sim's fleet file on disk, `repoPath` where it is
   * in the pushed tree (the path the pipeline's PIFLEET_FLEET must name).
   */
  pipelineYaml: (fleetFile: string, repoPath: string) => Promise<string>;
  /** How long to wait for the pipeline the push creates; default 90 s on the default branch, 15 s elsewhere. */
  pipelineWaitMs?: number;
  progress?: (message: string) => void;
}

export interface SimPushResult {
  project: string;
  branch: string;
  sha: string;
  parent: string | null;
  /** The pushed tree differs from the parent's; false: an empty commit, a pipeline that changes nothing. */
  changed: boolean;
  files: number;
  variables: { created: string[]; updated: string[]; unchanged: string[]; removed: string[] };
  /** The pipeline the emulator created for the push; null when none appeared (workflow rules may make none). */
  pipeline: PipelineBasic | null;
}

async function defaultMessage(repoRoot: string): Promise<string> {
  const head = await run("git", ["-C", repoRoot, "rev-parse", "--short", "HEAD"], { allowFailure: true });
  const dirty = await run("git", ["-C", repoRoot, "status", "--porcelain", "--untracked-files=no"], { allowFailure: true });
  const at = head.code === 0 ? head.stdout.trim() : "an unborn HEAD";
  return `sim push: the working tree at ${at}${dirty.stdout.trim() ? " with uncommitted changes" : ""}`;
}

/**
 * `pifleet sim push`: makes the sim's GitLab project what this repository's working tree would be on a
 * real GitLab, and pushes it — which runs the pipeline.
 * 1. the .gitlab-ci.yml for the sim's fleet (first: a fleet the generator refuses changes nothing), then
 *    the CI/CD variables the pipeline reads (key, tokens, build proxy, image mirror refs), created or updated;
 * 2. a commit of the working tree's tracked files + the sim's fleet file and known_hosts + the
 *    .gitlab-ci.yml generated for that fleet, on top of the branch's head on the emulator (or the
 *    default branch's, for a new branch); a new commit even when nothing changed;
 * 3. a push over git smart HTTP with a write_repository token minted for it and revoked after;
 * 4. the pipeline the push created.
 */
export async function simPush(options: SimPushOptions): Promise<SimPushResult> {
  return pushProject(await simGitlabTarget(options.dir), options);
}

/** simPush once the sim's emulator is found (tests hand over an in-process emulator as the target). */
export async function pushProject(target: SimGitlabTarget, options: SimPushOptions): Promise<SimPushResult> {
  const progress = options.progress ?? (() => {});
  const branch = options.branch ?? SIM_DEFAULT_BRANCH;
  const repoRoot = await repositoryRoot(resolve(options.repoRoot));

  progress("generating .gitlab-ci.yml for the sim's fleet");
  const { status } = target;
  const fleetFile = options.fleetFile ? resolve(options.fleetFile) : status.fleetFile;
  const [fleetText, knownHosts, pipeline] = await Promise.all([
    readFile(fleetFile, "utf8"),
    readFile(status.knownHosts, "utf8"),
    options.pipelineYaml(fleetFile, SIM_PROJECT_FLEET_FILE),
  ]);
  const written = [
    { path: SIM_PROJECT_FLEET_FILE, content: fleetText },
    { path: SIM_PROJECT_KNOWN_HOSTS, content: knownHosts },
    { path: PIPELINE_FILE, content: pipeline },
  ];

  progress("setting the project's CI/CD variables");
  const variables = await setProjectVariables(target, options.images ?? {});

  const projectDir = join(resolve(options.dir), "project");
  const url = projectGitUrl(target.url);
  await ensureProjectRepo(projectDir, SIM_DEFAULT_BRANCH);
  const pushToken = await mintToken(target, "pifleet sim push", ["write_repository"]);
  try {
    const heads = await remoteHeads(projectDir, url, pushToken.token, [...new Set([branch, SIM_DEFAULT_BRANCH])]);
    const base = heads.has(branch) ? branch : heads.has(SIM_DEFAULT_BRANCH) ? SIM_DEFAULT_BRANCH : undefined;
    if (base) await fetchCommit(projectDir, url, pushToken.token, base);
    const parent = base ? (heads.get(base) ?? null) : null;

    progress(`committing the working tree of ${repoRoot}`);
    const files = await trackedWorkingFiles(
      repoRoot,
      written.map((w) => w.path),
    );
    const message = options.message ?? (await defaultMessage(repoRoot));
    const commit = await buildCommit({ projectDir, repoRoot, files, written, parent, message });

    progress(`pushing ${commit.sha.slice(0, 8)} to ${url} (${branch})`);
    await pushCommit(projectDir, url, pushToken.token, commit.sha, branch);

    progress("waiting for the pipeline of the push");
    const waitMs = options.pipelineWaitMs ?? (branch === SIM_DEFAULT_BRANCH ? 90_000 : 15_000);
    const created = await waitForPipeline(target, commit.sha, waitMs);
    return {
      project: url,
      branch,
      sha: commit.sha,
      parent,
      changed: commit.changed,
      files: files.length + written.length,
      variables,
      pipeline: created,
    };
  } finally {
    await revokeToken(target, pushToken.id);
  }
}

async function setProjectVariables(target: SimGitlabTarget, images: Readonly<Record<string, string>>) {
  const existing = await listVariables(target);
  const sshKey = new Secret(await readFile(target.status.sshKey, "utf8"));
  const fleetToken = await tokenFor(target, existing, "GITLAB_TOKEN");
  const noteToken = await noteTokenFor(target, existing);
  const desired = desiredVariables({ sshKey, fleetToken, noteToken, buildProxy: target.status.aptProxy, images });
  const plan = await applyVariables(target, desired, existing);
  const keys = (list: { key: string }[]) => list.map((v) => v.key);
  return { created: keys(plan.create), updated: keys(plan.update), unchanged: keys(plan.unchanged), removed: keys(plan.remove) };
}
