import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface SshTarget {
  address: string;
  user: string;
  key: string;
  knownHosts: string;
}

/** Runs a command on a node over SSH with its pinned host key; resolves with stdout, rejects on non-zero exit. */
export async function sshRun(t: SshTarget, command: string): Promise<string> {
  const { stdout } = await run(
    "ssh",
    [
      "-i",
      t.key,
      "-o",
      `UserKnownHostsFile=${t.knownHosts}`,
      "-o",
      "StrictHostKeyChecking=yes",
      "-o",
      "BatchMode=yes",
      "-o",
      "ConnectTimeout=10",
      `${t.user}@${t.address}`,
      command,
    ],
    { maxBuffer: 4 * 1024 * 1024 },
  );
  return stdout;
}
