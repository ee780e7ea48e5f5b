import type { ROLE_TAGS as RoleTagsOfTheBridge } from "@pifleet/ansible-bridge";
import { type Command, Option } from "commander";
import { warn } from "../output.js";
import type { ConfigureFlags } from "./configure-actions.js";

const actions = () => import("./configure-actions.js");

/**
 * site.yml's role tags, for the help text. Spelled out so that registering the command does not load
 * ansible-bridge; the type is the bridge's own constant's, so the compiler rejects any difference.
 */
const ROLE_TAGS: typeof RoleTagsOfTheBridge = [
  "base",
  "raspberrypi",
  "docker",
  "registry",
  "swarm",
  "gitlab_runner",
  "redis",
  "keepalived",
];

export function registerConfigure(program: Command): void {
  program
    .command("configure")
    .description("configure the Pis with Ansible (site.yml): base OS, Pi boot settings, Docker, registry, Swarm, runner service")
    .option("--check", "change nothing; report what would change")
    .option("--diff", "show file and package differences")
    .option("--limit <nodes>", "only these nodes, comma-separated (e.g. pi1,pi2)")
    .option("--tags <tags>", `only these roles, comma-separated: ${ROLE_TAGS.join(", ")}`)
    .addOption(
      new Option("--format <format>", "text (the table) or markdown (a report for a merge request)")
        .choices(["text", "markdown"])
        .default("text"),
    )
    // The old spelling of --format markdown, kept working for existing pipelines; hidden, warns.
    .addOption(new Option("--report <format>").choices(["markdown"]).implies({ format: "markdown" }).hideHelp())
    .option(
      "--plan-against <fleetFile>",
      "change nothing, contact no Pi: show per host the Ansible variables this fleet file changes against that one (MR plans)",
    )
    .option(
      "--observed <file>",
      "change nothing, contact no Pi: plan against the fleet file observed.json records (pifleet observe), with its drift (MR plans)",
    )
    .addOption(
      new Option("--work-dir <dir>", "generated inventory, ansible.cfg, fact cache").env("PIFLEET_ANSIBLE_DIR").default(".pifleet/ansible"),
    )
    .addHelpText(
      "after",
      `
The inventory and ansible.cfg are generated from fleet.yaml for every run (under --work-dir/runs/);
SSH uses the fleet's key and checks host keys against its known_hosts only.
Exit codes: 0 every node converged, 1 a node failed or was unreachable (the others are still configured),
2 bad input (fleet file, --limit, --tags, or Ansible rejected the playbook), 3 ansible-playbook missing.
With --json, stdout is {"hosts": {NAME: {ok, changed, unreachable, failed, skipped}}, "check", "changes", "failures", ...}.

Examples:
  $ pifleet configure                                   converge every node
  $ pifleet configure --check --diff --format markdown  what a merge request would change, secrets masked
  $ pifleet configure --limit pi3 --tags docker,swarm   one node, two roles
  $ pifleet configure --json | jq '.hosts'
  $ pifleet configure --observed observed.json      an MR's plan against the deployed fleet file, no credentials
  $ pifleet configure --plan-against main-fleet.yaml  the same against another fleet file`,
    )
    .on("option:report", () => warn("--report is deprecated: use --format markdown"))
    .action(async (flags: ConfigureFlags, cmd: Command) => (await actions()).configure(flags, cmd));
}
