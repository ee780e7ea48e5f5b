import { appendFile, chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Fleet } from "@pifleet/fleet";
import { run } from "@pifleet/io";
import { renderAnsibleCfg } from "./ansible-cfg.js";
import { buildInventory, renderInventory } from "./inventory.js";

/** The Ansible content shipped with this package (site.yml, roles, callback). */
export const ANSIBLE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..", "ansible");
export const SITE_PLAYBOOK = join(ANSIBLE_DIR, "site.yml");

/** Default working directory, relative to the current directory (git-ignored). */
export const DEFAULT_WORK_DIR = ".pifleet/ansible";

/** Runs kept under WORK_DIR/runs; older ones are removed. */
const KEEP_RUNS = 10;

export interface RunDir {
  dir: string;
  inventory: string;
  config: string;
  /** JSON file passed with --extra-vars @file (mode 0600: it may hold secrets). */
  extraVars: string;
}

/** A socket path is limited to ~104 bytes and ssh's %C adds 40: the control dir must leave room for it. */
const MAX_CONTROL_DIR_LENGTH = 50;
/** Lists the private temporary control dirs made for a work dir whose own path is too long. */
const CONTROL_DIRS_FILE = "control-dirs";

/** Where a work dir's SSH ControlMaster sockets live when its path leaves room for them; undefined when it does not. */
export function controlPathDir(workDir: string): string | undefined {
  const preferred = join(resolve(workDir), "cp");
  return preferred.length <= MAX_CONTROL_DIR_LENGTH ? preferred : undefined;
}

/**
 * Creates this run's control dir, 0700. A long work dir gets a fresh, unpredictable directory
 * in tmp (mkdtemp), recorded in the work dir so closeSshMasters finds it: a predictable shared
 * /tmp name could have been created first by another user, who would then own our sockets.
 */
async function makeControlPathDir(root: string): Promise<string> {
  const inWorkDir = controlPathDir(root);
  if (inWorkDir) {
    await mkdir(inWorkDir, { recursive: true, mode: 0o700 });
    await chmod(inWorkDir, 0o700);
    return inWorkDir;
  }
  const dir = await mkdtemp(join(shortTmpDir(), "pifleet-cp-"));
  await appendFile(join(root, CONTROL_DIRS_FILE), `${dir}\n`, { mode: 0o600 });
  return dir;
}

/** $TMPDIR when it leaves room for a socket, else /tmp. */
function shortTmpDir(): string {
  const tmp = tmpdir();
  return tmp.length + "/pifleet-cp-XXXXXX".length <= MAX_CONTROL_DIR_LENGTH ? tmp : "/tmp";
}

/** Every control dir a work dir's runs used: its own, plus the private temporary ones it recorded. */
async function controlPathDirs(root: string): Promise<{ own: string[]; temporary: string[] }> {
  const listed = await readFile(join(root, CONTROL_DIRS_FILE), "utf8").catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return "";
    throw err;
  });
  const own = controlPathDir(root);
  return { own: own ? [own] : [], temporary: listed.split("\n").filter((line) => line !== "") };
}

/**
 * Ends the SSH master connections Ansible left running (ControlPersist) for a
 * work dir, and removes the temporary control dirs its runs made. Tests call it
 * in afterAll; a CLI run leaves them for the next run.
 */
export async function closeSshMasters(workDir: string): Promise<void> {
  const root = resolve(workDir);
  const { own, temporary } = await controlPathDirs(root);
  for (const dir of [...own, ...temporary]) {
    const sockets = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return [];
      throw err;
    });
    // A master that already exited (ControlPersist ran out) leaves a dead socket: nothing to end there.
    await Promise.all(
      sockets.map((s) => run("ssh", ["-o", `ControlPath=${join(dir, s)}`, "-O", "exit", "--", "pifleet-master"], { allowFailure: true })),
    );
  }
  await Promise.all(temporary.map((dir) => rm(dir, { recursive: true, force: true })));
  await rm(join(root, CONTROL_DIRS_FILE), { force: true });
}

/**
 * Writes this run's generated inventory, ansible.cfg and extra vars into a new
 * directory WORK_DIR/runs/<stamp>. The fact cache and (when the path is short
 * enough) the SSH sockets live beside the runs so the next run reuses them.
 */
export async function prepareRunDir(fleet: Fleet, workDir: string, extraVars: Record<string, unknown> = {}): Promise<RunDir> {
  const root = resolve(workDir);
  const runs = join(root, "runs");
  const stamp = `${new Date().toISOString().replace(/[:.]/g, "-")}-${process.pid}`;
  const dir = join(runs, stamp);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await mkdir(join(root, "facts"), { recursive: true, mode: 0o700 });
  const cp = await makeControlPathDir(root);
  const paths: RunDir = {
    dir,
    inventory: join(dir, "inventory.yml"),
    config: join(dir, "ansible.cfg"),
    extraVars: join(dir, "extra-vars.json"),
  };
  const header = "# Generated by pifleet from the fleet file; never edit by hand.\n";
  await writeFile(paths.inventory, header + renderInventory(buildInventory(fleet)), { mode: 0o600 });
  await writeFile(
    paths.config,
    renderAnsibleCfg({
      rolesPath: join(ANSIBLE_DIR, "roles"),
      callbackPluginsPath: join(ANSIBLE_DIR, "callback_plugins"),
      knownHosts: fleet.ssh.knownHosts,
      nodeCount: fleet.nodes.length,
      factCacheDir: join(root, "facts"),
      controlPathDir: cp,
    }),
    { mode: 0o600 },
  );
  await writeFile(paths.extraVars, JSON.stringify(extraVars), { mode: 0o600 });
  await pruneRuns(runs);
  return paths;
}

async function pruneRuns(runs: string): Promise<void> {
  const names = (await readdir(runs)).sort();
  for (const old of names.slice(0, Math.max(0, names.length - KEEP_RUNS))) await rm(join(runs, old), { recursive: true, force: true });
}
