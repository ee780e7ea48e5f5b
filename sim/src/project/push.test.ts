import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gitlabTransport, run, Secret } from "@pifleet/io";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GitlabEmulator, startGitlabEmulator } from "../gitlab/index.js";
import type { SimStatus } from "../status.js";
import { PIPELINE_FILE, SIM_PROJECT_FLEET_FILE, SIM_PROJECT_KNOWN_HOSTS } from "./layout.js";
import { pushProject, type SimPushOptions } from "./push.js";
import type { SimGitlabTarget } from "./target.js";
import { type ExistingVariable, FLEET_ENVIRONMENT, RETIRED_KEYS } from "./variables.js";
import { NOTE_TOKEN_NAME } from "./variables-api.js";

// Real git and the emulator in-process (its pipelines evaluated by the real gitlab-ci-local); no Docker.
const tmp = mkdtempSync(join(tmpdir(), "pifleet-sim-push-"));
const repoRoot = join(tmp, "repo");
const simDir = join(tmp, "sim");
const projectDir = join(simDir, "project");
const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n";
const FLEET = "cluster: pfs-test\n";
const KNOWN_HOSTS = "198.19.255.11 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFake\n";
let gl: GitlabEmulator;
let target: SimGitlabTarget;
const generatedFor: [string, string][] = [];

const gitEnv = { ...process.env, GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1" };
// Local git only: a synchronous call would block the in-process emulator, so talking to it goes through async run.
const sh = (cwd: string, ...args: string[]) => execFileSync("git", args, { cwd, encoding: "utf8", env: gitEnv });
const remoteGit = async (cwd: string, ...args: string[]) => (await run("git", args, { cwd, env: gitEnv, timeoutMs: 60_000 })).stdout;
const show = (sha: string, path: string) => sh(tmp, "--git-dir", projectDir, "show", `${sha}:${path}`);
const tree = (sha: string) => sh(tmp, "--git-dir", projectDir, "ls-tree", "-r", "--name-only", sha).trim().split("\n");

async function api<T>(path: string, token = gl.adminToken): Promise<{ status: number; body: T }> {
  const res = await fetch(`${gl.url}/api/v4${path}`, { headers: { "PRIVATE-TOKEN": token } });
  return { status: res.status, body: (await res.json()) as T };
}

function options(extra: Partial<SimPushOptions> = {}): SimPushOptions {
  return {
    dir: simDir,
    repoRoot,
    images: { PIFLEET_NODE_IMAGE: "198.19.255.11:5000/mirror/node:20-bookworm" },
    pipelineYaml: async (fleetFile, repoPath) => {
      generatedFor.push([fleetFile, repoPath]);
      return `variables:\n  PIFLEET_FLEET: ${repoPath}\ncheck:\n  script: [echo check]\n`;
    },
    ...extra,
  };
}

beforeAll(async () => {
  mkdirSync(join(repoRoot, "sub"), { recursive: true });
  sh(tmp, "init", "--quiet", "--initial-branch=trunk", repoRoot);
  for (const [f, text] of [
    ["a.txt", "a\n"],
    ["sub/b.txt", "b\n"],
    ["gone.txt", "gone\n"],
    [".gitignore", "ignored.txt\n"],
    ["ignored.txt", "tracked although ignored\n"],
    [PIPELINE_FILE, "# the repository's own pipeline\n"],
  ] as const) {
    writeFileSync(join(repoRoot, f), text);
  }
  sh(repoRoot, "add", "--force", ".");
  sh(repoRoot, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "--quiet", "-m", "init");
  writeFileSync(join(repoRoot, "a.txt"), "a, edited and not committed\n");
  unlinkSync(join(repoRoot, "gone.txt"));
  writeFileSync(join(repoRoot, "untracked.txt"), "not tracked\n");

  mkdirSync(simDir, { recursive: true });
  writeFileSync(join(simDir, "fleet.yaml"), FLEET);
  writeFileSync(join(simDir, "known_hosts"), KNOWN_HOSTS);
  writeFileSync(join(simDir, "id_ed25519"), KEY, { mode: 0o600 });

  gl = await startGitlabEmulator({ host: "127.0.0.1", port: 0 });
  const adminToken = new Secret(gl.adminToken);
  target = {
    status: {
      fleetFile: join(simDir, "fleet.yaml"),
      knownHosts: join(simDir, "known_hosts"),
      sshKey: join(simDir, "id_ed25519"),
      aptProxy: "http://198.18.0.1:3142",
    } as SimStatus,
    url: gl.url,
    projectId: gl.projectId,
    adminToken,
    controlSecret: new Secret(gl.controlSecret),
    api: gitlabTransport({ url: gl.url, auth: { header: "PRIVATE-TOKEN", token: adminToken } }),
  };
});

afterAll(async () => {
  await gl?.close();
  rmSync(tmp, { recursive: true, force: true });
});

function allFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? allFiles(p) : [p];
  });
}

// Each push evaluates the pipeline with gitlab-ci-local: seconds here, minutes in a loaded 1-GiB pipeline job.
describe("sim push", { timeout: 240_000 }, () => {
  let first: Awaited<ReturnType<typeof pushProject>>;

  it("pushes the working tree's tracked files, the sim's fleet, known_hosts and generated pipeline, and the push makes a pipeline", async () => {
    first = await pushProject(target, options({ message: "first" }));
    expect(first).toMatchObject({ branch: "main", parent: null, changed: true, files: 7 });
    expect(first.pipeline).toMatchObject({ sha: first.sha, ref: "main", source: "push" });

    expect(tree(first.sha).sort()).toEqual(
      [".gitignore", PIPELINE_FILE, "a.txt", SIM_PROJECT_FLEET_FILE, SIM_PROJECT_KNOWN_HOSTS, "ignored.txt", "sub/b.txt"].sort(),
    );
    expect(show(first.sha, "a.txt")).toBe("a, edited and not committed\n");
    expect(show(first.sha, SIM_PROJECT_FLEET_FILE)).toBe(FLEET);
    expect(show(first.sha, SIM_PROJECT_KNOWN_HOSTS)).toBe(KNOWN_HOSTS);
    expect(show(first.sha, PIPELINE_FILE)).toContain(`PIFLEET_FLEET: ${SIM_PROJECT_FLEET_FILE}`);
    expect(generatedFor.at(-1)).toEqual([join(simDir, "fleet.yaml"), SIM_PROJECT_FLEET_FILE]);
    expect(sh(tmp, "--git-dir", projectDir, "log", "-1", "--format=%an <%ae> %s", first.sha).trim()).toBe(
      "pifleet sim <sim@pifleet.invalid> first",
    );
    // The repository pushed from is untouched: its index still has the committed a.txt and gone.txt.
    expect(sh(repoRoot, "status", "--porcelain").split("\n").sort().filter(Boolean)).toEqual([
      " D gone.txt",
      " M a.txt",
      "?? untracked.txt",
    ]);
  });

  it("sets the project's CI/CD variables: the key and runner token protected in the fleet's environment, a Reporter note token for MRs", async () => {
    const { body } = await api<ExistingVariable[]>(`/projects/${gl.projectId}/variables?per_page=100`);
    const byKey = new Map(body.map((v) => [v.key, v]));
    const scoped = { protected: true, environment_scope: FLEET_ENVIRONMENT };
    expect(byKey.get("PIFLEET_SSH_KEY")).toMatchObject({ value: KEY, variable_type: "file", masked: false, raw: true, ...scoped });
    expect(byKey.get("GITLAB_TOKEN")).toMatchObject({ variable_type: "env_var", masked: true, ...scoped });
    expect(byKey.get("PIFLEET_NOTE_TOKEN")).toMatchObject({ protected: false, masked: true, environment_scope: "*" });
    for (const key of RETIRED_KEYS) expect(byKey.has(key), key).toBe(false);
    expect(byKey.get("PIFLEET_BUILD_PROXY")?.value).toBe("http://198.18.0.1:3142");
    expect(byKey.get("PIFLEET_NODE_IMAGE")?.value).toBe("198.19.255.11:5000/mirror/node:20-bookworm");
    // Two tokens of their own, not the admin's; the note token is a Reporter's: it may comment, not read variables.
    const fleetToken = byKey.get("GITLAB_TOKEN")?.value ?? "";
    const noteToken = byKey.get("PIFLEET_NOTE_TOKEN")?.value ?? "";
    expect(new Set([fleetToken, noteToken, gl.adminToken]).size).toBe(3);
    expect((await api(`/user`, fleetToken)).status).toBe(200);
    expect((await api(`/projects/${gl.projectId}/merge_requests`, noteToken)).status).toBe(200);
    expect((await api(`/projects/${gl.projectId}/variables`, noteToken)).status).toBe(403);
    const { body: tokens } = await api<{ name: string; access_level: number; active: boolean }[]>(
      `/projects/${gl.projectId}/access_tokens`,
    );
    expect(tokens.filter((t) => t.active).map((t) => [t.name, t.access_level])).toEqual([[NOTE_TOKEN_NAME, 20]]);
    expect(first.variables.created.sort()).toEqual(
      ["GITLAB_TOKEN", "PIFLEET_BUILD_PROXY", "PIFLEET_NODE_IMAGE", "PIFLEET_NOTE_TOKEN", "PIFLEET_SSH_KEY"].sort(),
    );
  });

  it("leaves no token on disk: no remote, no credential in the project repository", () => {
    expect(sh(tmp, "--git-dir", projectDir, "config", "--list")).not.toMatch(/remote\.|credential|http\./);
    const { body } = { body: readFileSync(join(projectDir, "config"), "utf8") };
    expect(body).not.toContain("glpat");
    for (const file of allFiles(projectDir)) expect(readFileSync(file).includes(gl.adminToken), file).toBe(false);
  });

  it("a second push with nothing changed is a new, empty commit with its own pipeline, and changes no variable", async () => {
    const again = await pushProject(target, options({ message: "again" }));
    expect(again).toMatchObject({ parent: first.sha, changed: false });
    expect(again.sha).not.toBe(first.sha);
    expect(again.pipeline).toMatchObject({ sha: again.sha });
    expect(again.pipeline?.id).not.toBe(first.pipeline?.id);
    expect(again.variables).toEqual({ created: [], updated: [], unchanged: expect.arrayContaining(first.variables.created), removed: [] });
  });

  it("replaces a note token that is not one of its own Reporter tokens (a stronger one set by hand), and keeps its own", async () => {
    const path = `/projects/${gl.projectId}/variables`;
    const byKey = async () => new Map((await api<ExistingVariable[]>(`${path}?per_page=100`)).body.map((v) => [v.key, v.value]));
    const fleetToken = (await byKey()).get("GITLAB_TOKEN") ?? "";
    const set = await fetch(`${gl.url}/api/v4${path}/PIFLEET_NOTE_TOKEN`, {
      method: "PUT",
      headers: { "PRIVATE-TOKEN": gl.adminToken, "content-type": "application/json" },
      body: JSON.stringify({ value: fleetToken }),
    });
    expect(set.status).toBe(200);
    const replaced = await pushProject(target, options({ message: "note token replaced" }));
    expect(replaced.variables.updated).toEqual(["PIFLEET_NOTE_TOKEN"]);
    const noteToken = (await byKey()).get("PIFLEET_NOTE_TOKEN") ?? "";
    expect([fleetToken, gl.adminToken]).not.toContain(noteToken);
    expect((await api(`${path}`, noteToken)).status).toBe(403);
    const kept = await pushProject(target, options({ message: "note token kept" }));
    expect(kept.variables.updated).toEqual([]);
  });

  it("builds on what the emulator has (a commit pushed by someone else), and a new branch starts from the default branch", async () => {
    const clone = join(tmp, "clone");
    const auth = `http.extraHeader=Authorization: Basic ${Buffer.from(`x:${gl.adminToken}`).toString("base64")}`;
    await remoteGit(tmp, "-c", auth, "clone", "--quiet", `${gl.url}/pifleet/infra.git`, clone);
    writeFileSync(join(clone, "other.txt"), "someone else\n");
    sh(clone, "add", "other.txt");
    sh(clone, "-c", "user.name=o", "-c", "user.email=o@o", "commit", "--quiet", "-m", "other");
    await remoteGit(clone, "-c", auth, "push", "--quiet", "origin", "HEAD:main");
    const theirs = sh(clone, "rev-parse", "HEAD").trim();

    const mine = await pushProject(target, options());
    expect(mine.parent).toBe(theirs);
    // The working tree wins: what is not in it is not in the pushed tree.
    expect(tree(mine.sha)).not.toContain("other.txt");
    expect(sh(tmp, "--git-dir", projectDir, "log", "-1", "--format=%s", mine.sha).trim()).toMatch(
      /^sim push: the working tree at [0-9a-f]+ with uncommitted changes$/,
    );

    const branch = await pushProject(target, options({ branch: "add-pi5", pipelineWaitMs: 0 }));
    expect(branch).toMatchObject({ branch: "add-pi5", parent: mine.sha, changed: false });
    const { body } = await api<{ name: string; commit: { id: string } }>(`/projects/${gl.projectId}/repository/branches/add-pi5`);
    expect(body.commit.id).toBe(branch.sha);
  }, 60_000);
});
