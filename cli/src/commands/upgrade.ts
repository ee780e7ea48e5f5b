import type { Command } from "commander";
import { durationOption } from "../flags.js";
import type { UpgradeFlags } from "./upgrade-actions.js";

const actions = () => import("./upgrade-actions.js");

export function registerUpgrade(program: Command): void {
  program
    .command("upgrade")
    .description(
      "OS updates, reboots and engine restarts, one node at a time: drained from Swarm and its runners first, undrained once healthy",
    )
    .option("--pending-only", "no OS updates: only the reboots and engine restarts a converge recorded")
    .option("--limit <nodes>", "only these nodes, comma-separated (e.g. pi2,pi3)")
    .option("-y, --yes", "roll without asking (for pipelines and scripts)")
    .addOption(durationOption("--timeout <duration>", "per node: for running jobs to finish, tasks to move, the node to come back", "15m"))
    .option("--work-dir <dir>", "generated inventory, ansible.cfg, fact cache", ".pifleet/ansible")
    .addHelpText(
      "after",
      `
A converge (pifleet configure) never reboots or restarts an engine: it records the need on the node
(/var/run/reboot-required, /var/run/pifleet-docker-restart-required). upgrade reads those and, unless
--pending-only, the packages apt would upgrade; shows the plan; then for one node at a time: drains it from
the Swarm (through a manager), pauses its runners and waits for their jobs, hands away what it holds,
upgrades and reboots it (or restarts its engine) with ansible/rolling.yml, waits until SSH, the engine, the
Swarm node and its tasks are back, and undrains it. A runner a person paused stays paused; a node a person
drained or paused stays so. The node running the job that runs upgrade is skipped (said in the plan).
The first failed step stops the roll: that node stays drained, later nodes are untouched.
Exit codes: 0 rolled (or nothing to do), 1 a step failed or not confirmed, 2 bad input, 3 ansible-playbook/ssh
or the token missing. With --json, stdout is {"plan": {nodes, skipped, unchanged}, "report": {rolled, failed,
notReached, timeline, durationMs}}. Guide: docs/rolling-changes.md.

Examples:
  $ pifleet upgrade                        plan, then ask
  $ pifleet upgrade --pending-only --yes   after a converge that changed boot settings or daemon.json
  $ pifleet upgrade --limit pi3 --yes --json | jq '.report.timeline'`,
    )
    .action(async (flags: UpgradeFlags, cmd: Command) => (await actions()).upgrade(flags, cmd));
}
