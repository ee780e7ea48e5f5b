import { createHmac } from "node:crypto";

/**
 * known_hosts lookup for strict host-key checking: a node's key must be
 * pinned in the fleet's known_hosts, or the connection is refused. Plain and
 * hashed (|1|salt|hash) host fields, and [host]:port for non-22 ports.
 */

export interface KnownKey {
  type: string;
  key: Buffer;
}

function hostPatterns(address: string, port: number): string[] {
  return port === 22 ? [address, `[${address}]:22`] : [`[${address}]:${port}`];
}

function hostMatches(field: string, candidates: string[]): boolean {
  if (field.startsWith("|1|")) {
    const [, , salt = "", hash = ""] = field.split("|");
    return candidates.some((c) => createHmac("sha1", Buffer.from(salt, "base64")).update(c).digest("base64") === hash);
  }
  return field.split(",").some((h) => candidates.includes(h));
}

export function knownKeysFor(knownHosts: string, address: string, port = 22): KnownKey[] {
  const candidates = hostPatterns(address, port);
  const out: KnownKey[] = [];
  for (const raw of knownHosts.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith("@")) continue;
    const [hosts = "", type = "", key = ""] = line.split(/\s+/);
    if (hostMatches(hosts, candidates) && key) out.push({ type, key: Buffer.from(key, "base64") });
  }
  return out;
}

/** True when the key the server offered is one of the pinned ones. */
export function isPinned(offered: Buffer, pinned: KnownKey[]): boolean {
  return pinned.some((k) => k.key.equals(offered));
}
