import type { Command } from "commander";

const actions = () => import("./validate-actions.js");

export function registerValidate(program: Command): void {
  program
    .command("validate")
    .description("check fleet.yaml and show what it derives: node roles, job capacity, runner tags and each node's memory budget")
    .addHelpText(
      "after",
      `
Every problem is reported at once as FILE:LINE:COL: message, and the exit code is 2; an
over-committed node (what it runs exceeds its memoryMiB) or a pool whose job does not fit in
what a node it selects has left is reported at that node or pool.
The memory budget lists, per node, what runs there (OS, Docker, gitlab-runner, the registry,
the stack's services with their limits, job slots × job memory) against its memory.
With --json, stdout is {"valid": bool, "file", "nodes": [...], "errors": [...]}; each node has
"memory": {"fixed": [{item, mib, why}], "leftMiB", "pools", "jobSlots", "jobs", "totalMiB", "freeMiB", ...}.

Examples:
  $ pifleet validate --fleet examples/fleet.yaml
  $ pifleet validate --json | jq '.nodes[].tags'
  $ pifleet validate --json | jq '.nodes[] | {name, free: .memory.freeMiB}'`,
    )
    .action(async (_opts, cmd: Command) => (await actions()).validate(cmd));
}
