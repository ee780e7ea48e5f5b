import { InputError } from "@pifleet/fleet";
import { SSH_TIMEOUT_MS, waitForSsh } from "./node-setup.js";
import { attachedContainers, docker } from "./sim-docker.js";
import { requireState, type SimNodeStatus, statusOf } from "./status.js";

export const FAULT_ACTIONS = ["stop", "start", "pause", "unpause", "partition", "heal"] as const;
export type FaultAction = (typeof FAULT_ACTIONS)[number];
const RESTORING = new Set<FaultAction>(["start", "unpause", "heal"]);

/**
 * `pifleet sim fault NODE ACTION`. partition disconnects the node from the sim network while it
 * keeps running (it then has loopback only); heal reconnects it at the same address and name.
 * Both are idempotent, and so are stop/start. start, unpause and heal return once sshd answers.
 */
export async function simFault(dir: string, nodeName: string, action: FaultAction): Promise<SimNodeStatus> {
  if (!FAULT_ACTIONS.includes(action)) {
    throw new InputError(`unknown fault action ${JSON.stringify(action)}`, `Use one of: ${FAULT_ACTIONS.join(", ")}.`);
  }
  const state = await requireState(dir);
  const { layout } = state;
  const node = layout.nodes.find((n) => n.name === nodeName);
  if (!node) {
    throw new InputError(
      `no node ${JSON.stringify(nodeName)} in the sim in ${layout.dir}`,
      `Nodes: ${layout.nodes.map((n) => n.name).join(", ")}.`,
    );
  }
  const attached = (await attachedContainers(layout.network.name)).has(node.container);
  switch (action) {
    case "partition":
      if (attached) await docker(["network", "disconnect", layout.network.name, node.container]);
      break;
    case "heal":
      if (!attached) await docker(["network", "connect", "--ip", node.address, "--alias", node.name, layout.network.name, node.container]);
      break;
    default:
      await docker([action, node.container]);
  }
  const status = await statusOf(state);
  const after = status.nodes.find((n) => n.name === nodeName);
  if (!after) throw new InputError(`node ${nodeName} vanished from the sim`);
  // Lifting a fault returns once the node answers SSH again, as a booted Pi would.
  if (RESTORING.has(action) && after.state === "running") await waitForSsh(node, SSH_TIMEOUT_MS[layout.arch]);
  return after;
}
