import { type Fleet, type FleetNode, OperationError, resolveTopology } from "@pifleet/fleet";
import { type Clock, type NodeShell, systemClock } from "@pifleet/io";

/**
 * The Swarm side of a roll, over SSH: drain a node through a manager and wait until its tasks have
 * moved, wait for it to be back (SSH, engine, Ready), set it active again and wait for its tasks.
 */

/** Marks a drain pifleet made, so a rerun after a stopped roll still sets the node back. */
export const DRAINED_LABEL = "pifleet.rolling-drain";

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
  drain(node: string): Promise<string>;
  undrain(node: string): Promise<void>;
  waitHealthy(node: string): Promise<void>;
}

export function swarmRoll(fleet: Fleet, shell: NodeShell, waits: SwarmWaits): SwarmRoll {
  const find = (name: string): FleetNode => {
    const n = fleet.nodes.find((x) => x.name === name);
    if (!n) throw new OperationError(`no node ${name} in the fleet`);
    return n;
  };
  /** The node's availability as a person set it: a drain pifleet left behind (a roll that stopped) counts as active. */
  const availability = async (node: string): Promise<string> => {
    const format = `{{.Spec.Availability}} {{index .Spec.Labels "${DRAINED_LABEL}"}}`;
    const out = await shell.run(managerFor(fleet, node), ["docker", "node", "inspect", node, "--format", format], { root: true });
    const [value, ours] = out.stdout.trim().split(" ");
    return ours === "true" ? "active" : (value ?? "");
  };
  const setAvailability = (node: string, value: "drain" | "active") => {
    const label = value === "drain" ? ["--label-add", `${DRAINED_LABEL}=true`] : ["--label-rm", DRAINED_LABEL];
    return shell.run(managerFor(fleet, node), ["docker", "node", "update", "--availability", value, ...label, node], { root: true });
  };

  return {
    async drain(node) {
      const before = await availability(node);
      // A node a person drained or paused stays so; the roll still waits for its tasks to be gone.
      if (before === "active") await setAvailability(node, "drain");
      await poll(`${node}: its Swarm tasks moving away`, `See \`docker node ps ${node}\` on a manager.`, waits, async () => {
        // Drained tasks stay listed (desired: shutdown) until their containers have stopped; wait for that.
        const left = before === "pause" ? [] : (await nodeTasks(shell, managerFor(fleet, node), node)).filter(isRunning);
        return left.length === 0 ? undefined : `still running: ${left.join(", ")}`;
      });
      return before;
    },
    async undrain(node) {
      await setAvailability(node, "active");
      // Global services come back to the node; replicated ones stay where Swarm moved them.
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
