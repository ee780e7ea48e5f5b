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

/** An OpenSSH host pattern: `*` and `?` are wildcards, the rest is literal. */
function globMatches(pattern: string, host: string): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${re}$`).test(host);
}

function hostMatches(field: string, candidates: readonly string[]): boolean {
  if (field.startsWith("|1|")) {
    const [, , salt = "", hash = ""] = field.split("|");
    return candidates.some((c) => createHmac("sha1", Buffer.from(salt, "base64")).update(c).digest("base64") === hash);
  }
  // As sshd(8) reads a comma list: a matching !pattern rules the line out whatever else matches.
  let matched = false;
  for (const pattern of field.split(",")) {
    const negated = pattern.startsWith("!");
    if (!candidates.some((c) => globMatches(negated ? pattern.slice(1) : pattern, c))) continue;
    if (negated) return false;
    matched = true;
  }
  return matched;
}

/** A key known_hosts marks `@revoked` for a host: never trusted, even where another line pins it. */
export interface Revocation extends KnownKey {
  /** 1-based line of the @revoked entry, for errors that point at it. */
  line: number;
}

interface Entry extends KnownKey {
  marker: string | undefined;
  line: number;
}

/** Every entry of known_hosts that names address:port, with its marker (@revoked, @cert-authority) if any. */
function entriesFor(knownHostsText: string, address: string, port: number): Entry[] {
  const candidates = hostPatterns(address, port);
  const out: Entry[] = [];
  knownHostsText.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const fields = line.split(/\s+/);
    const marker = line.startsWith("@") ? fields.shift() : undefined;
    const [hosts = "", type = "", key = ""] = fields;
    if (key && hostMatches(hosts, candidates)) out.push({ marker, type, key: Buffer.from(key, "base64"), line: i + 1 });
  });
  return out;
}

/** The keys known_hosts marks @revoked for address:port. */
export function revokedKeysFor(knownHostsText: string, address: string, port = 22): Revocation[] {
  return entriesFor(knownHostsText, address, port)
    .filter((e) => e.marker === "@revoked")
    .map(({ type, key, line }) => ({ type, key, line }));
}

/**
 * The keys pinned for address:port. Marker lines (@cert-authority, @revoked) pin nothing, and a key
 * marked @revoked for the host is left out even where a plain line pins it, as ssh refuses it.
 */
export function knownKeysFor(knownHostsText: string, address: string, port = 22): KnownKey[] {
  const revoked = revokedKeysFor(knownHostsText, address, port);
  return entriesFor(knownHostsText, address, port)
    .filter((e) => e.marker === undefined && !isPinned(e.key, revoked))
    .map(({ type, key }) => ({ type, key }));
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
