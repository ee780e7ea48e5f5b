import { actOnNode, type RollActions, swarmRoll } from "@pifleet/ansible-bridge";
import { type Fleet, OperationError } from "@pifleet/fleet";
import type { NodeShell } from "@pifleet/io";
import { drainForRoll, type RunnerContext, undrainForRoll } from "@pifleet/runner-manager";
import type { HandOffProvider } from "./hand-offs.js";

/** Wires the roll's steps to the packages that perform them: Swarm and Ansible (ansible-bridge), runners (runner-manager), hand-offs. */
export function rollActions(options: {
  fleet: Fleet;
  shell: NodeShell;
  runners: RunnerContext | undefined;
  handOffs: readonly HandOffProvider[];
  /** For drains (running jobs, moving tasks) and for a node coming back. */
  timeoutMs: number;
  pollMs: number;
  workDir: string;
  progress: (message: string) => void;
}): RollActions {
  const { fleet, runners, timeoutMs, pollMs } = options;
  const swarm = swarmRoll(fleet, options.shell, { timeoutMs, pollMs });
  const provider = (node: string, what: string): HandOffProvider => {
    const found = options.handOffs.find((p) => p.what === what);
    if (!found) throw new OperationError(`${node}: no way to hand away ${what}`);
    return found;
  };
  const needRunners = (): RunnerContext => {
    if (!runners)
      throw new OperationError("this node has runners, but no GitLab connection was set up", "Set the fleet's token variable and rerun.");
    return runners;
  };
  return {
    drainSwarm: (node) => swarm.drain(node),
    undrainSwarm: (node, to) => swarm.undrain(node, to),
    drainRunners: (node) => drainForRoll(needRunners(), node, { timeoutMs, pollMs }),
    undrainRunners: async (node) => {
      const { keptPaused } = await undrainForRoll(needRunners(), node, { timeoutMs, pollMs });
      for (const id of keptPaused) options.progress(`${node}: runner #${id} stays paused: a person paused it in GitLab`);
    },
    handOff: (node, what) => provider(node, what).handAway(node),
    release: (node, what) => provider(node, what).release(node),
    act: async (node, action) => {
      await actOnNode({
        fleet,
        node,
        action,
        workDir: options.workDir,
        onEvent: (e) => {
          if (e.kind === "task") options.progress(`${node}: ${e.name}`);
        },
      });
    },
    waitHealthy: (node) => swarm.waitHealthy(node),
  };
}
