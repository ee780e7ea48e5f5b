import { rm, rmdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { removeArm64Credentials, SIM_BINFMT_ENTRY } from "./binfmt.js";
import { stopGitlab } from "./gitlab-process.js";
import { stopHostServices, withHostLock } from "./host-services.js";
import { instanceIdFor, simFiles } from "./layout.js";
import { anySimResources, removeInstance } from "./sim-docker.js";
import { DEFAULT_SIM_DIR } from "./up.js";

export interface SimDownResult {
  instance: string;
  removed: { containers: number; networks: number; volumes: number };
  /** Shared host daemons stopped (and the arm64 binfmt entry removed) because this was the last sim on the machine. */
  stoppedServices: string[];
  gitlabStopped: boolean;
}

/**
 * `pifleet sim down`: stops the emulator and removes exactly this sim's labelled containers,
 * networks and volumes, then the files it wrote. Works from the dir alone (no state needed), so
 * it also cleans up after a `sim up` that failed half-way. The cached node image stays.
 */
export async function simDown(dir: string = DEFAULT_SIM_DIR): Promise<SimDownResult> {
  const abs = resolve(dir);
  const instance = instanceIdFor(abs);
  const files = simFiles(abs);
  const gitlabStopped = await stopGitlab(files);
  const { removed, stoppedServices } = await withHostLock(async () => {
    const removed = await removeInstance(instance);
    if (await anySimResources()) return { removed, stoppedServices: [] };
    const stoppedServices = await stopHostServices();
    if (await removeArm64Credentials()) stoppedServices.push(`binfmt ${SIM_BINFMT_ENTRY}`);
    return { removed, stoppedServices };
  });
  for (const f of [files.state, files.fleet, files.knownHosts, files.sshKey, `${files.sshKey}.pub`, files.gitlabPid, files.gitlabLog]) {
    await rm(f, { force: true });
  }
  await rm(files.nodes, { recursive: true, force: true });
  await rm(files.gitlabState, { recursive: true, force: true });
  // `sim push`'s local repository of the sim's project (sim/src/project): it belongs to this sim's GitLab.
  await rm(join(abs, "project"), { recursive: true, force: true });
  await rm(join(abs, ".gitignore"), { force: true });
  await rmdir(abs).catch(() => {
    // Not empty: the dir holds files that are not the sim's; leave them.
  });
  return { instance, removed, stoppedServices, gitlabStopped };
}
