import { readFile } from "node:fs/promises";
import { OperationError } from "@pifleet/fleet";
import { writeFileAtomic } from "@pifleet/io";
import {
  classifyHostKeys,
  fingerprint,
  type HostKeyTarget,
  type NodeHostKeys,
  pinLines,
  refusalMessage,
  renderFingerprints,
  withPins,
} from "./host-keys.js";
import { askYes, scanHostKeys } from "./probe.js";

export interface PinOptions {
  nodes: readonly HostKeyTarget[];
  port: number;
  knownHostsFile: string;
  /** Accept new keys without asking (they are still shown). */
  yes: boolean;
  show: (text: string) => void;
}

/** A node's keys as --json reports them: fingerprints, never the keys. */
export interface PinnedNode {
  node: string;
  address: string;
  status: NodeHostKeys["status"];
  fingerprints: string[];
}

export interface PinResult {
  nodes: PinnedNode[];
  /** Nodes whose keys this run added to known_hosts. */
  added: string[];
}

/** known_hosts as text; a first run has none yet. Any other failure to read it stops bootstrap. */
async function currentKnownHosts(file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return "";
    throw err;
  }
}

/**
 * Step 2: scans every node's host keys, keeps what known_hosts pins, stops on a changed or silent node
 * (exit 1, nothing written), shows the new nodes' fingerprints and asks once for all of them, then
 * appends them to known_hosts atomically.
 */
export async function pinHostKeys(options: PinOptions): Promise<PinResult> {
  const { nodes, port, knownHostsFile } = options;
  const text = await currentKnownHosts(knownHostsFile);
  const scanned = await Promise.all(nodes.map(async (n) => [n.name, await scanHostKeys(n.address, port)] as const));
  const classified = classifyHostKeys(text, nodes, port, new Map(scanned));
  const report = classified.map((n) => ({
    node: n.node,
    address: n.address,
    status: n.status,
    fingerprints: n.offered.map((k) => `${k.type} ${fingerprint(k.key)}`),
  }));

  const refusal = refusalMessage(classified, knownHostsFile, port);
  if (refusal) throw new OperationError(`host keys: not every node can be trusted, so nothing was changed:\n${refusal}`);

  const fresh = classified.filter((n) => n.status === "new");
  if (fresh.length === 0) {
    options.show(`Host keys: all ${nodes.length} already pinned in ${knownHostsFile}.`);
    return { nodes: report, added: [] };
  }
  options.show(
    `New host keys (compare each with its Pi's own \`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub\`):\n${renderFingerprints(classified)}`,
  );
  const trusted = options.yes || (await askYes("Trust these host keys? [y/N] "));
  if (!trusted) {
    throw new OperationError(
      "host keys not trusted: nothing was written, nothing changed",
      "Check the fingerprints on each Pi (keyboard and screen, or the SD card), then rerun and answer y.",
    );
  }
  await writeFileAtomic(knownHostsFile, withPins(text, pinLines(classified, port)));
  const added = fresh.map((n) => n.node);
  options.show(`Pinned the host keys of ${added.join(", ")} in ${knownHostsFile}${options.yes ? " (--yes)" : ""}.`);
  return { nodes: report, added };
}
