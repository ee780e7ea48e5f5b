import { type Fleet, type FleetNode, OperationError, resolveTopology } from "@pifleet/fleet";
import { type Clock, type NodeShell, systemClock } from "@pifleet/io";

/**
 * The Swarm side of a roll, over SSH: drain a node through a manager and wait until its tasks have
 * moved, wait for it to be back (SSH, engine, Ready), set it active again and wait for its tasks.
 */

/**
 * Marks a drain pifleet made, valued with the availability a person had set (active or pause), so a
 * rerun after a stopped roll still sets the node back to it.
 */
export const DRAINED_LABEL = "pifleet.rolling-drain";

/** The availabilities pifleet drains from for a reboot and sets back afterwards. */
export type RestorableAvailability = "active" | "pause";

/** A label pifleet wrote before it carried the availability ("true") meant active. */
const restoredFrom = (label: string | undefined): RestorableAvailability | undefined =>
  label === "pause" ? "pause" : label === "true" || label === "active" ? "active" : undefined;

export interface SwarmWaits {
  /** How long a drained node's tasks may take to stop, and a node to come back. */
  timeoutMs: number;
  pollMs: number;
  clock?: Clock;
}

/** A manager to talk to about `node`: another manager when there is one (this one is going down). */
export function managerFor(fleet: Fleet, node: string): FleetNode {
  const { managers, primaryManager } = resolveTopology(fleet);
  return managers.find((m) => m.name !== node) ?? primaryManager;
}

async function poll(what: string, hint: string, waits: SwarmWaits, ready: () => Promise<string | undefined>): Promise<void> {
  const clock = waits.clock ?? systemClock;
  const deadline = clock.now() + waits.timeoutMs;
  let last = "";
  for (;;) {
    const missing = await ready().catch((err: unknown) => (err instanceof Error ? err.message : String(err)));
    if (missing === undefined) return;
    last = missing;
    if (clock.now() >= deadline)
      throw new OperationError(`${what} not reached after ${Math.round(waits.timeoutMs / 1000)} s: ${last}`, hint);
    await clock.sleep(waits.pollMs);
  }
}

const inSwarm = (n: FleetNode): boolean => n.roles.includes("swarm-manager") || n.roles.includes("swarm-worker");

/** `docker node ps` on a manager: one line per task ("NAME CURRENT-STATE …"); `desired` keeps only those Swarm wants running. */
async function nodeTasks(shell: NodeShell, manager: FleetNode, node: string, desired?: "running"): Promise<string[]> {
  const filter = desired ? ["--filter", `desired-state=${desired}`] : [];
  const out = await shell.run(manager, ["docker", "node", "ps", node, ...filter, "--format", "{{.Name}} {{.CurrentState}}"], {
    root: true,
  });
  return out.stdout.split("\n").filter(Boolean);
}

const isRunning = (task: string): boolean => / Running /.test(`${task} `);

export interface SwarmRoll {
  /** Drains the node; returns the availability a person had set (active, pause, drain). */
  drain(node: string): Promise<string>;
  /** Sets the node back to the availability a person had set. */
  undrain(node: string, to: RestorableAvailability): Promise<void>;
  waitHealthy(node: string): Promise<void>;
}

export function swarmRoll(fleet: Fleet, shell: NodeShell, waits: SwarmWaits): SwarmRoll {
  const find = (name: string): FleetNode => {
    const n = fleet.nodes.find((x) => x.name === name);
    if (!n) throw new OperationError(`no node ${name} in the fleet`);
    return n;
  };
  /** The node's availability as a person set it: a drain pifleet left behind (a roll that stopped) counts as what it replaced. */
  const availability = async (node: string): Promise<string> => {
    const format = `{{.Spec.Availability}} {{index .Spec.Labels "${DRAINED_LABEL}"}}`;
    const out = await shell.run(managerFor(fleet, node), ["docker", "node", "inspect", node, "--format", format], { root: true });
    const [value, ours] = out.stdout.trim().split(" ");
    return restoredFrom(ours) ?? value ?? "";
  };
  const drainFrom = (node: string, before: RestorableAvailability) =>
    shell.run(
      managerFor(fleet, node),
      ["docker", "node", "update", "--availability", "drain", "--label-add", `${DRAINED_LABEL}=${before}`, node],
      { root: true },
    );
  const restore = (node: string, to: RestorableAvailability) =>
    shell.run(managerFor(fleet, node), ["docker", "node", "update", "--availability", to, "--label-rm", DRAINED_LABEL, node], {
      root: true,
    });

  return {
    async drain(node) {
      const before = await availability(node);
      // A paused node still runs its tasks: it is drained too, so the reboot takes none of them down, and
      // set back to pause afterwards. A node a person drained stays so.
      if (before === "active" || before === "pause") await drainFrom(node, before);
      await poll(`${node}: its Swarm tasks moving away`, `See \`docker node ps ${node}\` on a manager.`, waits, async () => {
        // Drained tasks stay listed (desired: shutdown) until their containers have stopped; wait for that.
        const left = (await nodeTasks(shell, managerFor(fleet, node), node)).filter(isRunning);
        return left.length === 0 ? undefined : `still running: ${left.join(", ")}`;
      });
      return before;
    },
    async undrain(node, to) {
      await restore(node, to);
      // Global services come back to an active node (a paused one takes none); replicated ones stay where Swarm moved them.
      await poll(`${node}: its Swarm tasks running`, `See \`docker node ps ${node}\` on a manager.`, waits, async () => {
        const notYet = (await nodeTasks(shell, managerFor(fleet, node), node, "running")).filter((t) => !isRunning(t));
        return notYet.length === 0 ? undefined : `not running yet: ${notYet.join(", ")}`;
      });
    },
    async waitHealthy(node) {
      const target = find(node);
      await poll(
        `${node}: back healthy (SSH, engine, Swarm node Ready)`,
        `Look at the node: ssh to it, \`systemctl status docker\`, and \`docker node ls\` on a manager. It stays drained until then.`,
        waits,
        async () => {
          const engine = await shell.run(target, ["docker", "info", "--format", "{{.Swarm.LocalNodeState}}"], {
            root: true,
            allowFailure: true,
          });
          if (engine.code !== 0) return "the engine does not answer";
          if (!inSwarm(target)) return undefined;
          const state = await shell.run(managerFor(fleet, node), ["docker", "node", "inspect", node, "--format", "{{.Status.State}}"], {
            root: true,
            allowFailure: true,
          });
          return state.stdout.trim() === "ready" ? undefined : `Swarm node state ${state.stdout.trim() || state.stderr.trim()}`;
        },
      );
    },
  };
}
