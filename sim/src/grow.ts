import { readFile } from "node:fs/promises";
import { writeFileAtomic } from "@pifleet/io";
import { renderFleetYaml, renderKnownHosts } from "./fleet-file.js";
import { controlSecretPath } from "./gitlab/control-secret.js";
import { ensureLxcfs } from "./host-services.js";
import type { ProgressFn } from "./image.js";
import { type NodePlan, planLayout, type SimLayout } from "./layout.js";
import { createNode, SSH_TIMEOUT_MS, waitForSsh } from "./node-setup.js";
import { installRunnerStandin } from "./runner-standin.js";
import { type SimRecord, writeState } from "./state.js";

/** The sim's fleet file; without the emulator it names where the emulator would listen. */
export function writeFleetFile(state: SimRecord): Promise<void> {
  const { layout } = state;
  const gitlab = state.gitlab ?? { url: `http://${layout.network.gateway}`, projectId: 1 };
  return writeFileAtomic(layout.files.fleet, renderFleetYaml(layout, gitlab));
}

/**
 * The layout of `state`'s sim with `nodes` nodes: the same network and the same first nodes
 * (names and addresses follow the index), plus the new ones. Pure.
 */
export function grownLayout(layout: SimLayout, nodes: number): { layout: SimLayout; added: NodePlan[] } {
  const { instance: _instance, network, files: _files, nodes: current, ...options } = layout;
  const grown = planLayout({ ...options, nodes }, network.subnet);
  return { layout: { ...grown, network }, added: grown.nodes.slice(current.length) };
}

/**
 * Plugs more Pis into a live sim (`sim up --nodes N` with N larger than before), as a person adds
 * a Pi to the PoE switch: new nodes with their own pinned host keys, the runner stand-in when the
 * emulator runs, and a fleet file that now lists them. The nodes already there are not touched.
 */
export async function growSim(state: SimRecord, nodes: number, progress: ProgressFn): Promise<void> {
  const { layout, added } = grownLayout(state.layout, nodes);
  progress(`plugging in ${added.map((n) => n.name).join(", ")}`);
  const lxcfsDir = await ensureLxcfs(progress);
  const clientPublicKey = await readFile(`${layout.files.sshKey}.pub`, "utf8");
  const hostKeys = await Promise.all(
    added.map((node) => createNode(layout, node, { image: state.image, lxcfsDir, clientPublicKey, aptProxyUrl: state.aptProxy })),
  );
  const knownHosts = await readFile(layout.files.knownHosts, "utf8");
  await writeFileAtomic(
    layout.files.knownHosts,
    knownHosts + renderKnownHosts(added.map((n, i) => ({ address: n.address, publicKey: hostKeys[i] ?? "" }))),
  );
  state.layout = layout;
  await writeState(state);
  await writeFleetFile(state);
  await Promise.all(added.map((n) => waitForSsh(n, SSH_TIMEOUT_MS[layout.arch])));
  if (state.gitlab && state.runnerStandin) {
    await installRunnerStandin(added, { url: state.gitlab.url, controlSecretFile: controlSecretPath(layout.files.gitlabState) }, progress);
  }
}
