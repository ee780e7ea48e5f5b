import { type Fleet, OperationError } from "@pifleet/fleet";
import type { NodeShell } from "@pifleet/io";
import { type NodeObservation, ROLL_MARKERS } from "./rolling-plan.js";

/** What the roll reads from each node before planning: the markers a converge left, and pending upgrades. */

/** A shell command printing one `apt-error` line: what ran, and the last lines of its output in `variable`. */
const aptError = (what: string, variable: string) =>
  `printf 'apt-error ${what} failed: %s\\n' "$(printf '%s' "$${variable}" | tail -n 3 | tr '\\n' ' ')"`;

/** The script run on a node (pure): one line per finding. */
export function observeScript(upgrade: boolean): string {
  return [
    `test -e ${ROLL_MARKERS.reboot} && echo reboot`,
    `test -e ${ROLL_MARKERS.dockerRestart} && echo docker`,
    `test -e ${ROLL_MARKERS.redisRestart} && echo redis`,
    // -s simulates: nothing is installed; only the package lists are refreshed. A failing apt says so
    // (its last lines), never an empty list that would read as "nothing to upgrade".
    ...(upgrade
      ? [
          `if ! out=$(apt-get update -qq 2>&1); then ${aptError("apt-get update", "out")}; fi`,
          `if sim=$(apt-get -s -o Debug::NoLocking=1 dist-upgrade 2>&1); then printf '%s\\n' "$sim" | awk '/^Inst /{ print "pkg " $2 }'; else ${aptError("apt-get -s dist-upgrade", "sim")}; fi`,
        ]
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
    ...errorsIn(lines),
  };
}

function errorsIn(lines: string[]): { aptError?: string } {
  const errors = lines.filter((l) => l.startsWith("apt-error ")).map((l) => l.slice("apt-error ".length).trim());
  return errors.length > 0 ? { aptError: errors.join("; ") } : {};
}

/** Reads every node (in parallel: it only reads, and apt's simulation takes a few seconds each). */
export async function observeNodes(
  fleet: Fleet,
  shell: NodeShell,
  options: { upgrade: boolean; nodes?: string[] },
): Promise<NodeObservation[]> {
  const targets = fleet.nodes.filter((n) => !options.nodes || options.nodes.includes(n.name));
  const script = observeScript(options.upgrade);
  const observations = await Promise.all(
    targets.map(async (n) => parseObservation(n.name, (await shell.script(n, script, { root: true, timeoutMs: 300_000 })).stdout)),
  );
  const failed = observations.filter((o) => o.aptError);
  if (failed.length > 0)
    throw new OperationError(
      `apt could not tell what to upgrade on ${failed.map((o) => `${o.node} (${o.aptError})`).join(", ")}`,
      "Run `sudo apt-get update` on that node to see why (its apt sources, its network, a held lock), fix it, then rerun pifleet upgrade; `--pending-only` rolls what a converge recorded without apt.",
    );
  return observations;
}
