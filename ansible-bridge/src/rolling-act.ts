import { join } from "node:path";
import { type Fleet, OperationError } from "@pifleet/fleet";
import type { AnsibleEvent } from "./events.js";
import type { NodeAction } from "./rolling-plan.js";
import { ANSIBLE_DIR } from "./run-dir.js";
import { type PlaybookResult, runPlaybook } from "./run-playbook.js";

/** rolling.yml: OS updates, the reboot, the engine restart of one drained node. */
export const ROLLING_PLAYBOOK = join(ANSIBLE_DIR, "rolling.yml");

/** Runs rolling.yml on one node; a failed or unreachable node is an OperationError naming it and the task. */
export async function actOnNode(options: {
  fleet: Fleet;
  node: string;
  action: NodeAction;
  workDir?: string;
  onEvent?: (event: AnsibleEvent) => void;
}): Promise<PlaybookResult> {
  const result = await runPlaybook({
    fleet: options.fleet,
    playbook: ROLLING_PLAYBOOK,
    limit: options.node,
    extraVars: { rolling_upgrade: options.action === "upgrade-and-reboot" },
    ...(options.workDir ? { workDir: options.workDir } : {}),
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
  });
  if (result.exitCode !== 0) {
    const why =
      result.failures.map((f) => `${f.task}: ${f.message}`).join("; ") ||
      result.errors.join("; ") ||
      `ansible-playbook exit ${result.ansibleExitCode}`;
    throw new OperationError(
      `${options.node}: ${options.action} failed (${why})`,
      `The node stays drained and its runners paused. Generated files: ${result.runDir}. Fix the node, then rerun pifleet upgrade.`,
    );
  }
  return result;
}
