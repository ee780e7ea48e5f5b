import type { Fleet } from "@pifleet/fleet";
import type { NodeShell } from "@pifleet/io";
import { type NodeObservation, ROLL_MARKERS } from "./rolling-plan.js";

/** What the roll reads from each node before planning: the markers a converge left, and pending upgrades. */

/** The script run on a node (pure): one line per finding. */
export function observeScript(upgrade: boolean): string {
  return [
    `test -e ${ROLL_MARKERS.reboot} && echo reboot`,
    `test -e ${ROLL_MARKERS.dockerRestart} && echo docker`,
    `test -e ${ROLL_MARKERS.redisRestart} && echo redis`,
    // -s simulates: nothing is installed; only the package lists are refreshed.
    ...(upgrade
      ? ["apt-get update -qq >/dev/null", "apt-get -s -o Debug::NoLocking=1 dist-upgrade | awk '/^Inst /{ print \"pkg \" $2 }'"]
      : []),
    "true",
  ].join("\n");
}

/** Parses observeScript's output (pure). */
export function parseObservation(node: string, stdout: string): NodeObservation {
  const lines = stdout.split("\n").map((l) => l.trim());
  return {
    node,
    rebootRequired: lines.includes("reboot"),
    dockerRestartRequired: lines.includes("docker"),
    redisRestartRequired: lines.includes("redis"),
    upgradable: lines.filter((l) => l.startsWith("pkg ")).map((l) => l.slice(4)),
  };
}

/** Reads every node (in parallel: it only reads, and apt's simulation takes a few seconds each). */
export async function observeNodes(
  fleet: Fleet,
  shell: NodeShell,
  options: { upgrade: boolean; nodes?: string[] },
): Promise<NodeObservation[]> {
  const targets = fleet.nodes.filter((n) => !options.nodes || options.nodes.includes(n.name));
  const script = observeScript(options.upgrade);
  return Promise.all(
    targets.map(async (n) => parseObservation(n.name, (await shell.script(n, script, { root: true, timeoutMs: 300_000 })).stdout)),
  );
}
