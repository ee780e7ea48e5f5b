import { type Command, Option } from "commander";
import type { ObserveFlags } from "./observe-actions.js";

const actions = () => import("./observe-actions.js");

export function registerObserve(program: Command): void {
  program
    .command("observe")
    .description("record what the fleet runs (runners, config.toml without tokens, the app stack, drift) for plans that may not look")
    .option("--out <file>", "write the observation there (default: stdout)")
    .option("--drift", "also run configure --check and record, per host, the tasks that would change")
    .addOption(
      new Option("--work-dir <dir>", "configure's generated inventory and fact cache (with --drift)")
        .env("PIFLEET_ANSIBLE_DIR")
        .default(".pifleet/ansible"),
    )
    .addHelpText(
      "after",
      `
Reads what \`runners plan\`, \`app plan\` and \`configure --check\` read, with the same credentials (the fleet key,
the runner manager's token): run it where those are allowed, the pipeline's protected fleet-observe job.
Every runner token in config.toml is replaced by "[redacted]", so the file is safe as an ordinary artifact.
Merge-request plans read it instead of the fleet: runners plan --observed, app plan --observed,
configure --plan-against (docs/security.md, design D).
Exit codes: 0 written (unreachable nodes are recorded in it), 1 GitLab or the stack could not be read, 3 token missing.
JSON: {"version":1,"cluster","observedAt","source":{pipelineId,pipelineUrl,jobId,...},"runners":{"runners","nodes"},"swarm","drift"}.

Examples:
  $ pifleet observe --out observed.json
  $ pifleet observe --drift | jq '.drift'`,
    )
    .action(async (flags: ObserveFlags, cmd: Command) => (await actions()).observe(flags, cmd));
}
