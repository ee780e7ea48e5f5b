import { access, mkdir, readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { EnvironmentError, OperationError } from "@pifleet/fleet";
import { livePid, sleep, spawnDetached, stopPidFile } from "@pifleet/io";
import { SIM_SSH_USER, type SimFiles } from "./layout.js";

/** The emulator's runnable entry; built by `npx tsc -b` (tests and the CLI both use dist/). */
export const EMULATOR_MAIN = fileURLToPath(new URL("../dist/gitlab/main.js", import.meta.url));
/** The emulator's seeded project, used when its start-up line does not name one. */
const SEEDED_PROJECT_ID = 1;

export interface RunningGitlab {
  url: string;
  projectId: number;
  pid: number;
}

/**
 * Starts the GitLab API emulator detached, listening on the sim network's gateway so both the
 * host and the nodes reach it, with its state and token under the sim dir, and the paths of the
 * sim's SSH key and pinned known_hosts: it runs the jobs runners take on their nodes over SSH.
 */
export async function startGitlab(files: SimFiles, host: string): Promise<RunningGitlab> {
  await access(EMULATOR_MAIN).catch(() => {
    throw new EnvironmentError(`the GitLab emulator is not built (${EMULATOR_MAIN} is missing)`, "Run `npx tsc -b` first.");
  });
  await mkdir(files.gitlabState, { recursive: true });
  await writeFile(files.gitlabLog, "");
  const args = [EMULATOR_MAIN, "--host", host, "--port", "0", "--state", files.gitlabState];
  args.push("--runner-ssh-user", SIM_SSH_USER, "--runner-ssh-key", files.sshKey, "--runner-known-hosts", files.knownHosts);
  const pid = await spawnDetached(process.execPath, args, files.gitlabLog, files.gitlabPid);
  for (let i = 0; i < 150; i++) {
    const text = await readFile(files.gitlabLog, "utf8").catch(() => "");
    for (const line of text.split("\n")) {
      if (!line.startsWith("{")) continue;
      const info = JSON.parse(line) as { url?: string; projectId?: number };
      if (info.url) return { url: info.url, projectId: info.projectId ?? SEEDED_PROJECT_ID, pid };
    }
    if ((await livePid(files.gitlabPid, EMULATOR_MAIN)) === undefined) break;
    await sleep(100);
  }
  throw new OperationError(`the GitLab emulator did not start; see ${files.gitlabLog}`);
}

/** Stops the emulator started for this sim (by the pid in its pid file), if it runs. */
export function stopGitlab(files: SimFiles): Promise<boolean> {
  return stopPidFile(files.gitlabPid, EMULATOR_MAIN);
}

export async function gitlabRunning(files: SimFiles): Promise<boolean> {
  return (await livePid(files.gitlabPid, EMULATOR_MAIN)) !== undefined;
}
