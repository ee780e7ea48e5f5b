import { knownKeysFor, readKnownHosts, sshShell } from "@pifleet/io";
import type { SimStatus } from "../status.js";

/** The base64 key pinned for address in a known_hosts file (the format sim up writes). */
export async function pinnedKey(knownHosts: string, address: string): Promise<string> {
  const [pinned] = knownKeysFor(await readKnownHosts(knownHosts), address);
  if (!pinned) throw new Error(`${address} is not in ${knownHosts}`);
  return pinned.key.toString("base64");
}

interface LoginOptions {
  /** Another known_hosts file than the sim's (to see a wrong pin refused). */
  knownHosts?: string;
  connectTimeoutSec?: number;
}

/**
 * Runs one command on a node over SSH as pi, through @pifleet/io's node shell (strict host keys:
 * only the key pinned in known_hosts is accepted). Resolves with its stdout, trimmed; a non-zero
 * exit throws with stderr.
 */
export async function sshRun(sim: SimStatus, address: string, command: string, options: LoginOptions = {}): Promise<string> {
  const settings = { user: sim.sshUser, port: 22, privateKey: sim.sshKey, knownHosts: options.knownHosts ?? sim.knownHosts };
  const shell = sshShell(settings, { connectTimeoutSec: options.connectTimeoutSec ?? 20 });
  try {
    const r = await shell.script({ name: address, address }, command, { allowFailure: true });
    if (r.code !== 0) throw new Error(`${address}: \`${command}\` exited ${r.code}: ${r.stderr}`);
    return r.stdout.trim();
  } finally {
    await shell.close();
  }
}

/** Logs in to a node and out again; rejects when the node is unreachable or its host key is not the pinned one. */
export async function sshLogin(sim: SimStatus, address: string, options: LoginOptions = {}): Promise<void> {
  await sshRun(sim, address, "true", options);
}
