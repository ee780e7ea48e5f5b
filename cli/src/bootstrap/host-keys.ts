import { createHash } from "node:crypto";
import { isPinned, type KnownKey, knownKeysFor, type Revocation, revokedKeysFor } from "@pifleet/io";

/**
 * Host-key pinning for the first run (pure): which nodes known_hosts already pins, which are new and
 * need a person's yes, and which offer a key other than the pinned one — those are never accepted.
 */

/** A node as pinning sees it. */
export interface HostKeyTarget {
  name: string;
  address: string;
}

/**
 * - `pinned`: a key the node offers is in known_hosts, and no offered key contradicts it;
 * - `new`: known_hosts has nothing for the node: its offered keys wait for a yes;
 * - `changed`: known_hosts pins a key of a type the node offers, and the node offers another one of that
 *   type — or none of its types at all (OpenSSH: "REMOTE HOST IDENTIFICATION HAS CHANGED");
 * - `revoked`: the node offers a key known_hosts marks @revoked — never trusted, never pinned;
 * - `silent`: the node answered no key (not an SSH server, or it dropped the connection).
 */
export type HostKeyStatus = "pinned" | "new" | "changed" | "revoked" | "silent";

export interface NodeHostKeys {
  node: string;
  address: string;
  status: HostKeyStatus;
  offered: KnownKey[];
  pinned: KnownKey[];
  /** The @revoked entries among the offered keys. */
  revoked: Revocation[];
}

/** OpenSSH's fingerprint: SHA256 of the key blob, base64 without padding (as `ssh-keygen -l` prints it). */
export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash("sha256").update(key).digest("base64").replace(/=+$/, "")}`;
}

/** ssh-keyscan's stdout: `host type base64` per key; its comments (`# host:22 SSH-2.0-…`) and blanks skipped. */
export function parseKeyscan(text: string): KnownKey[] {
  const keys: KnownKey[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const [, type = "", key = ""] = line.split(/\s+/);
    if (type && key) keys.push({ type, key: Buffer.from(key, "base64") });
  }
  return keys;
}

function statusOf(offered: readonly KnownKey[], pinned: readonly KnownKey[], revoked: readonly Revocation[]): HostKeyStatus {
  if (offered.length === 0) return "silent";
  if (revoked.length > 0) return "revoked";
  if (pinned.length === 0) return "new";
  const contradicts = offered.some((o) => {
    const sameType = pinned.filter((p) => p.type === o.type);
    return sameType.length > 0 && !isPinned(o.key, sameType);
  });
  if (contradicts) return "changed";
  return offered.some((o) => isPinned(o.key, pinned)) ? "pinned" : "changed";
}

/** Each node's standing against known_hosts, from the keys it offered (by node name). */
export function classifyHostKeys(
  knownHostsText: string,
  nodes: readonly HostKeyTarget[],
  port: number,
  offeredByNode: ReadonlyMap<string, readonly KnownKey[]>,
): NodeHostKeys[] {
  return nodes.map((n) => {
    const offered = [...(offeredByNode.get(n.name) ?? [])];
    const pinned = knownKeysFor(knownHostsText, n.address, port);
    const revoked = revokedKeysFor(knownHostsText, n.address, port).filter((r) => isPinned(r.key, offered));
    return { node: n.name, address: n.address, status: statusOf(offered, pinned, revoked), offered, pinned, revoked };
  });
}

/** How OpenSSH names a host in known_hosts (and `ssh-keygen -R` wants it): bare on port 22. */
export const knownHostsName = (address: string, port: number) => (port === 22 ? address : `[${address}]:${port}`);

/** The lines that pin the new nodes' offered keys, each node under a comment with its name. */
export function pinLines(nodes: readonly NodeHostKeys[], port: number): string {
  return nodes
    .filter((n) => n.status === "new")
    .map((n) => {
      const keys = n.offered.map((k) => `${knownHostsName(n.address, port)} ${k.type} ${k.key.toString("base64")}\n`);
      return `# ${n.node}, pinned by pifleet bootstrap\n${keys.join("")}`;
    })
    .join("");
}

/** known_hosts with the new lines appended; everything already there stays as it was. */
export function withPins(knownHostsText: string, lines: string): string {
  if (lines === "") return knownHostsText;
  const base = knownHostsText === "" || knownHostsText.endsWith("\n") ? knownHostsText : `${knownHostsText}\n`;
  return base + lines;
}

const keyList = (keys: readonly KnownKey[]) => keys.map((k) => `${k.type} ${fingerprint(k.key)}`).join(", ");

/** What a person compares with the Pi's own console before saying yes. */
export function renderFingerprints(nodes: readonly NodeHostKeys[]): string {
  return nodes
    .filter((n) => n.status === "new")
    .flatMap((n) => n.offered.map((k) => `  ${n.node}  ${n.address}  ${k.type}  ${fingerprint(k.key)}`))
    .join("\n");
}

/** Why bootstrap stops on changed, revoked or silent nodes, and what to do: one paragraph per node. */
export function refusalMessage(nodes: readonly NodeHostKeys[], knownHostsFile: string, port: number): string {
  return nodes
    .flatMap((n) => {
      if (n.status === "silent")
        return [`${n.node} (${n.address}:${port}) answered no SSH host key; check that sshd runs there and the address is the Pi's.`];
      if (n.status === "revoked")
        return n.revoked.map(
          (r) =>
            `${knownHostsFile}:${r.line}: ${n.node} (${n.address}) offers ${keyList([r])}, which this line marks @revoked: ` +
            "a revoked key is never trusted. Do not connect: check the Pi on its console, and if it still has that key, " +
            "give it new host keys (ssh-keygen -A after removing /etc/ssh/ssh_host_*) and rerun pifleet bootstrap.",
        );
      if (n.status !== "changed") return [];
      return [
        `${n.node} (${n.address}) offers ${keyList(n.offered)}, but ${knownHostsFile} pins ${keyList(n.pinned)}. ` +
          "If you reinstalled this Pi, compare the new fingerprint with the one its console shows " +
          "(ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub), remove the old pin with " +
          `\`ssh-keygen -R ${knownHostsName(n.address, port)} -f ${knownHostsFile}\` and rerun pifleet bootstrap. ` +
          "If you did not, do not connect: something else answers at that address.",
      ];
    })
    .join("\n");
}
