import { mkdir, writeFile } from "node:fs/promises";
import { cpus } from "node:os";
import { join, resolve } from "node:path";
import { EnvironmentError, InputError, OperationError, PifleetError } from "@pifleet/fleet";
import { writeFileAtomic } from "@pifleet/io";
import { ensureArm64Credentials } from "./binfmt.js";
import { renderKnownHosts } from "./fleet-file.js";
import { controlSecretPath } from "./gitlab/control-secret.js";
import { gitlabRunning, startGitlab } from "./gitlab-process.js";
import { growSim, writeFleetFile } from "./grow.js";
import { ensureAptProxy, ensureLxcfs, withHostLock } from "./host-services.js";
import { ensureNodeImage, machineMirror, type ProgressFn } from "./image.js";
import { instanceIdFor, parseMemory, pickSubnet, planLayout, SIM_ARCHES, type SimArch, type SimLayout } from "./layout.js";
import { createNode, SSH_TIMEOUT_MS, waitForSsh } from "./node-setup.js";
import { installRunnerStandin } from "./runner-standin.js";
import { createNetwork, docker, simContainers, usedSubnets } from "./sim-docker.js";
import { ensureKeyPair } from "./ssh-keys.js";
import { readState, type SimRecord, writeState } from "./state.js";
import { type SimStatus, statusOf } from "./status.js";

export interface SimUpOptions {
  /** Default .pifleet/sim in the working directory. */
  dir?: string;
  /** Default 4. */
  nodes?: number;
  /** Default amd64 (arm64 runs under qemu-user: slower, no nested Docker). */
  arch?: SimArch;
  /** Per node, e.g. "2g" or a number of MiB. Default 2g, a Pi 4 2 GB. */
  memory?: string | number;
  /** Start the GitLab API emulator (default true). */
  gitlab?: boolean;
  progress?: ProgressFn;
}

export const DEFAULT_SIM_DIR = ".pifleet/sim";

async function requireDocker(): Promise<void> {
  try {
    await docker(["info", "--format", "{{.ServerVersion}}"]);
  } catch (err) {
    if (err instanceof EnvironmentError) throw err;
    throw new EnvironmentError("no Docker engine answers", "Start one with scripts/setup (as root).");
  }
}

/** Takes a free /24 and creates the network, retrying when a concurrent sim took the same one. */
async function createSimNetwork(dir: string, options: Omit<Parameters<typeof planLayout>[0], "dir">): Promise<SimLayout> {
  const instance = instanceIdFor(dir);
  const taken: string[] = [];
  for (let attempt = 0; attempt < 8; attempt++) {
    const layout = planLayout({ dir, ...options }, pickSubnet([...(await usedSubnets()), ...taken]));
    if (await createNetwork(layout.network.name, layout.network.subnet, layout.network.gateway, instance)) return layout;
    taken.push(layout.network.subnet);
  }
  throw new OperationError("could not create a sim network: every subnet tried was taken meanwhile");
}

/** An existing sim in dir is started again (stopped nodes, emulator) rather than created twice. */
async function resume(state: SimRecord, options: { nodes: number; arch: SimArch }, progress: ProgressFn): Promise<SimStatus> {
  if (state.layout.nodes.length > options.nodes || state.layout.arch !== options.arch) {
    throw new InputError(
      `a sim with ${state.layout.nodes.length} ${state.layout.arch} nodes is already up in ${state.layout.dir}`,
      `A live sim only grows (--nodes ${state.layout.nodes.length + 1} plugs in one more Pi). To start over, run \`pifleet sim down --dir ${state.layout.dir}\`, or use another --dir.`,
    );
  }
  if (state.layout.nodes.length < options.nodes) await growSim(state, options.nodes, progress);
  const { layout } = state;
  const containers = await simContainers(layout.instance);
  for (const c of containers) {
    if (c.state === "paused") await docker(["unpause", c.name]);
    else if (c.state !== "running") await docker(["start", c.name]);
  }
  if (containers.length !== layout.nodes.length) {
    throw new OperationError(
      `sim in ${layout.dir} is incomplete (${containers.length} of ${layout.nodes.length} nodes exist)`,
      `Run \`pifleet sim down --dir ${layout.dir}\` and up again.`,
    );
  }
  if (state.gitlab && !(await gitlabRunning(layout.files))) {
    progress("restarting the GitLab API emulator (its state and token are kept)");
    await startEmulatorAndWriteFleet(state);
  }
  progress("sim already up; started what was stopped");
  const status = await statusOf(state);
  // Partitioned nodes stay cut off (that fault is lifted by heal); the others must answer.
  const reachable = layout.nodes.filter((n) => status.nodes.find((s) => s.name === n.name)?.state === "running");
  await Promise.all(reachable.map((n) => waitForSsh(n, SSH_TIMEOUT_MS[layout.arch])));
  return status;
}

/** Starts the emulator (on a new port) and writes the fleet file naming it. */
async function startEmulatorAndWriteFleet(state: SimRecord): Promise<void> {
  const { layout } = state;
  const gitlab = await startGitlab(layout.files, layout.network.gateway);
  state.gitlab = { url: gitlab.url, projectId: gitlab.projectId };
  await writeState(state);
  await writeFleetFile(state);
}

/**
 * `pifleet sim up`: nodes pi1..piN on their own network with fixed addresses, SSH keys with the
 * host keys pinned, the GitLab emulator, and a fleet file for all of it. See sim/README.md.
 */
export async function simUp(options: SimUpOptions = {}): Promise<SimStatus> {
  const progress = options.progress ?? (() => {});
  const dir = resolve(options.dir ?? DEFAULT_SIM_DIR);
  const arch = options.arch ?? "amd64";
  if (!SIM_ARCHES.includes(arch)) throw new InputError(`--arch ${String(arch)} is not supported`, `Use one of: ${SIM_ARCHES.join(", ")}.`);
  const memoryMiB = typeof options.memory === "number" ? options.memory : parseMemory(options.memory ?? "2g");
  const plan = { nodes: options.nodes ?? 4, arch, memoryMiB, cpus: Math.min(4, cpus().length) };
  await requireDocker();

  const existing = await readState(dir);
  if (existing) return resume(existing, plan, progress);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, ".gitignore"), "*\n");

  // Under the host lock: shared daemons, then our network — which marks this sim as present,
  // so a concurrent last `sim down` does not stop the daemons we are about to use.
  const mirror = await machineMirror();
  const { layout, aptProxy, lxcfsDir } = await withHostLock(async () => {
    const aptProxy = await ensureAptProxy(mirror, progress);
    const lxcfsDir = await ensureLxcfs(progress);
    if (arch === "arm64") await ensureArm64Credentials();
    progress("creating the sim network");
    return { layout: await createSimNetwork(dir, plan), aptProxy, lxcfsDir };
  });
  try {
    return await createSim(layout, aptProxy, lxcfsDir, options, progress);
  } catch (err) {
    // Whatever was created carries the sim's label; down removes it even without a complete state.
    const hint = `Remove what was created with \`pifleet sim down --dir ${dir}\`, then try again.`;
    if (!(err instanceof PifleetError) || err.hint) throw err;
    throw new PifleetError(err.message, err.exitCode, hint);
  }
}

async function createSim(
  layout: SimLayout,
  aptProxy: { host: string; nodes: string },
  lxcfsDir: string | undefined,
  options: SimUpOptions,
  progress: ProgressFn,
): Promise<SimStatus> {
  const { arch } = layout;
  const state: SimRecord = { version: 1, layout, image: "", aptProxy: aptProxy.nodes, createdAt: new Date().toISOString() };
  await writeState(state);

  state.image = await ensureNodeImage(arch, { host: aptProxy.host, build: aptProxy.nodes }, progress);
  await writeState(state);
  const clientPublicKey = await ensureKeyPair(layout.files.sshKey, `pifleet-sim ${layout.instance}`);
  progress(`starting ${layout.nodes.length} ${arch} nodes`);
  const hostKeys = await Promise.all(
    layout.nodes.map((node) => createNode(layout, node, { image: state.image, lxcfsDir, clientPublicKey, aptProxyUrl: aptProxy.nodes })),
  );
  await writeFileAtomic(
    layout.files.knownHosts,
    renderKnownHosts(layout.nodes.map((n, i) => ({ address: n.address, publicKey: hostKeys[i] ?? "" }))),
  );

  if (options.gitlab !== false) {
    progress("starting the GitLab API emulator");
    await startEmulatorAndWriteFleet(state);
  } else {
    await writeFleetFile(state);
  }

  progress("waiting for sshd on every node");
  await Promise.all(layout.nodes.map((n) => waitForSsh(n, SSH_TIMEOUT_MS[arch])));
  if (state.gitlab) {
    await installRunnerStandin(
      layout.nodes,
      { url: state.gitlab.url, controlSecretFile: controlSecretPath(layout.files.gitlabState) },
      progress,
    );
    state.runnerStandin = true;
    await writeState(state);
  }
  return statusOf(state);
}
