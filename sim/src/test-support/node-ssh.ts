import { readFile } from "node:fs/promises";
import { NodeSSH } from "node-ssh";
import type { SimStatus } from "../status.js";

/** The base64 key pinned for address in a known_hosts file (the format sim up writes). */
export async function pinnedKey(knownHosts: string, address: string): Promise<string> {
  const line = (await readFile(knownHosts, "utf8")).split("\n").find((l) => l.split(" ")[0] === address);
  if (!line) throw new Error(`${address} is not in ${knownHosts}`);
  return line.split(" ")[2] ?? "";
}

/**
 * An SSH session as pi, accepting only the host key pinned in known_hosts (strict checking:
 * a different key, or an address not pinned, fails the handshake).
 */
export async function sshTo(
  sim: SimStatus,
  address: string,
  options: { knownHosts?: string; readyTimeout?: number } = {},
): Promise<NodeSSH> {
  const expected = await pinnedKey(options.knownHosts ?? sim.knownHosts, address);
  const ssh = new NodeSSH();
  await ssh.connect({
    host: address,
    username: sim.sshUser,
    privateKeyPath: sim.sshKey,
    readyTimeout: options.readyTimeout ?? 20_000,
    hostVerifier: (key: Buffer) => key.toString("base64") === expected,
  });
  return ssh;
}

/** Runs one command on a node over SSH and returns its stdout; a non-zero exit throws with stderr. */
export async function sshRun(sim: SimStatus, address: string, command: string): Promise<string> {
  const ssh = await sshTo(sim, address);
  try {
    const r = await ssh.execCommand(command);
    if (r.code !== 0) throw new Error(`${address}: \`${command}\` exited ${r.code}: ${r.stderr}`);
    return r.stdout;
  } finally {
    ssh.dispose();
  }
}
