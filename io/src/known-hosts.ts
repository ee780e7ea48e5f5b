import { createHmac } from "node:crypto";
import { readFile } from "node:fs/promises";
import { EnvironmentError } from "@pifleet/fleet";

/**
 * The one known_hosts matcher, for strict host-key checking: a node's key must be
 * pinned in the fleet's known_hosts, or pifleet does not talk to it. Plain and
 * hashed (|1|salt|hash) host fields, and [host]:port for ports other than 22.
 */

export interface KnownKey {
  type: string;
  key: Buffer;
}

/** How OpenSSH writes a host in known_hosts: bare for port 22, [host]:port otherwise. */
function hostPatterns(address: string, port: number): string[] {
  return port === 22 ? [address, `[${address}]:22`] : [`[${address}]:${port}`];
}

function hostMatches(field: string, candidates: readonly string[]): boolean {
  if (field.startsWith("|1|")) {
    const [, , salt = "", hash = ""] = field.split("|");
    return candidates.some((c) => createHmac("sha1", Buffer.from(salt, "base64")).update(c).digest("base64") === hash);
  }
  return field.split(",").some((h) => candidates.includes(h));
}

/** The keys pinned for address:port. Marker lines (@cert-authority, @revoked) pin nothing. */
export function knownKeysFor(knownHostsText: string, address: string, port = 22): KnownKey[] {
  const candidates = hostPatterns(address, port);
  const out: KnownKey[] = [];
  for (const raw of knownHostsText.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith("@")) continue;
    const [hosts = "", type = "", key = ""] = line.split(/\s+/);
    if (key && hostMatches(hosts, candidates)) out.push({ type, key: Buffer.from(key, "base64") });
  }
  return out;
}

/** True when the key the server offered is one of the pinned ones. */
export function isPinned(offered: Buffer, pinned: readonly KnownKey[]): boolean {
  return pinned.some((k) => k.key.equals(offered));
}

/**
 * The text of a known_hosts file. Unreadable is an EnvironmentError naming the
 * file and why: it must never read as "no host key", which sends people to re-pin.
 */
export async function readKnownHosts(file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new EnvironmentError(
      `cannot read the known_hosts file ${file}: ${e.code ?? e.message}`,
      e.code === "ENOENT"
        ? "Create it with the nodes' host keys (pifleet sim up writes the sim's), or fix ssh.knownHosts in the fleet file."
        : "Make it readable by this user, or fix ssh.knownHosts in the fleet file.",
    );
  }
}
