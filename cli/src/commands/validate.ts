import type { Command } from "commander";

const actions = () => import("./validate-actions.js");

export function registerValidate(program: Command): void {
  program
    .command("validate")
    .description("check fleet.yaml and show what it derives: node roles, job capacity and runner tags")
    .addHelpText(
      "after",
      `
Every problem is reported at once as FILE:LINE:COL: message, and the exit code is 2.
With --json, stdout is {"valid": bool, "file", "nodes": [...], "errors": [...]}.

Examples:
  $ pifleet validate --fleet examples/fleet.yaml
  $ pifleet validate --json | jq '.nodes[].tags'`,
    )
    .action(async (_opts, cmd: Command) => (await actions()).validate(cmd));
}
