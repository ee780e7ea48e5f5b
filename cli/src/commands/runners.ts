import { type Command, Option } from "commander";
import { durationOption } from "../flags.js";
import type { ApplyFlags, DrainFlags, PlanFlags, PruneFlags, RotateFlags } from "./runners-actions.js";

const actions = () => import("./runners-actions.js");

const drainTimeout = () =>
  durationOption("--drain-timeout <duration>", "how long to wait for running jobs of a runner being removed", "10m");

const lockTimeout = () =>
  durationOption(
    "--lock-timeout <duration>",
    "how long to wait while another run (a pipeline, a colleague) holds the runners lock on the primary Swarm manager",
    "15m", // runners-actions.ts's DEFAULT_LOCK_TIMEOUT_MS for callers without the flag (bootstrap)
  );

export function registerRunners(program: Command): void {
  const runners = program
    .command("runners")
    .description("keep one GitLab runner per Pi and pool: plan, apply, status, drain, undrain, rotate, prune")
    .addHelpText(
      "after",
      `
Runners are created through GitLab's API (POST /user/runners, authentication tokens only) and written into
/etc/gitlab-runner/config.toml on each Pi over SSH. pifleet recognises its runners by their description
("pifleet CLUSTER/NODE/POOL [TAGS]") and a marker in their maintenance note; runners without the marker are never touched.
A pause made in the GitLab UI is kept. The API token comes from the variable named by gitlab.tokenEnv
(default GITLAB_TOKEN) and needs the scopes read_api + create_runner + manage_runner (or api). See docs/runners.md.

Examples:
  $ pifleet runners plan                      what would change
  $ pifleet runners plan --format markdown     the same, for a merge-request note
  $ pifleet runners apply                      make it so
  $ pifleet runners drain pi3 && sudo reboot   take pi3 out gracefully`,
    );

  runners
    .command("plan")
    .description("show what apply would change (creates, tag updates, config writes, pauses, drains, deletes); changes nothing")
    .addOption(
      new Option("--format <format>", "text (like terraform plan) or markdown (for an MR note)")
        .choices(["text", "markdown"])
        .default("text"),
    )
    .option("--out <file>", "also save the plan as JSON, with a fingerprint of what it observed, to run later with `runners apply FILE`")
    .option("--observed <file>", "plan against observed.json (pifleet observe) instead of GitLab and the nodes: no token, no SSH")
    .addHelpText(
      "after",
      `
With --observed, nothing is contacted: the plan is against what a protected job recorded (MR plans); nodes
the fleet file adds are planned as fresh ones.
Exit codes: 0 plan made, 1 a node was unreachable (its changes are left out), 2 bad fleet file or observation, 3 token missing.
With --json, stdout is {"version":1,"cluster","actions":[...],"notes":[...],"skippedNodes":[...],"summary":{...}}.

Examples:
  $ pifleet runners plan --out runners-plan.json
  $ pifleet runners plan --json | jq '.summary'`,
    )
    .action(async (opts: PlanFlags, cmd: Command) => (await actions()).plan(opts, cmd));

  runners
    .command("apply [planFile]")
    .description("reconcile GitLab and the nodes with fleet.yaml (or run a plan saved with `plan --out`)")
    .addOption(drainTimeout())
    .addOption(lockTimeout())
    .addHelpText(
      "after",
      `
Without a plan file, apply plans first and prints the plan. Every step is idempotent: after a crash or a
failure, rerun it; a runner created but never written to its node is adopted (its token is reset and written).
Runners being removed are paused, then deleted once they run no job (or left paused after --drain-timeout).
A saved plan is applied only while fleet.yaml, GitLab's runners and the nodes' config.toml are as it saw them,
and only if its actions are what fleet.yaml gives (its runner settings are checked, not trusted); otherwise
apply refuses it (exit 2), says what differs, and changes nothing: run \`runners plan --out FILE\` again.
Runner changes (apply, rotate, prune) take one lock on the fleet, on the primary Swarm manager
(/run/pifleet/runners.lock, held by this run's SSH session): a second run waits, says who holds it, and gives up
after --lock-timeout (exit 1, nothing changed). A run that dies releases it.
Exit codes: 0 converged, 1 a node was unreachable, a step failed (the rest was applied) or the lock stayed held,
2 bad input or a stale or edited plan file, 3 token missing.

Examples:
  $ pifleet runners apply
  $ pifleet runners plan --out p.json && pifleet runners apply p.json`,
    )
    .action(async (planFile: string | undefined, opts: ApplyFlags, cmd: Command) => (await actions()).apply(planFile, opts, cmd));

  runners
    .command("status")
    .description("per node: reachability, gitlab-runner service, and each runner's id, status, pause, tags, running jobs, limit")
    .addHelpText(
      "after",
      `
Warns when a tag is served by one node only, or by no active runner right now.
A service whose check failed shows as "unknown", with the node's error.
Exit codes: 0 shown, 1 a node was unreachable or its service check failed (still shown), 3 token missing.
With --json, stdout is {"cluster","nodes":[{"node","reachable","service","serviceError?","concurrent","runners":[...]}],"strays","notes"}.

Example:
  $ pifleet runners status`,
    )
    .action(async (_opts, cmd: Command) => (await actions()).status(cmd));

  runners
    .command("drain <node>")
    .description("pause the node's runners, wait until they run no job, then stop gitlab-runner with SIGQUIT")
    .addOption(durationOption("--timeout <duration>", "how long to wait for running jobs", "30m"))
    .option("--force", "drain even if a tag would be left with no active runner")
    .addHelpText(
      "after",
      `
Refuses (exit 1) when the node carries the last active runner of a tag, unless --force.
On timeout the runners stay paused, gitlab-runner keeps running its jobs, and the exit code is 1.

Examples:
  $ pifleet runners drain pi3 --timeout 1h
  $ pifleet runners undrain pi3`,
    )
    .action(async (node: string, opts: DrainFlags, cmd: Command) => (await actions()).drain(node, opts, cmd));

  runners
    .command("undrain <node>")
    .description("start gitlab-runner on the node and resume the runners pifleet paused (a pause made in the UI stays)")
    .addHelpText("after", "\nExample:\n  $ pifleet runners undrain pi3")
    .action(async (node: string, _opts, cmd: Command) => (await actions()).undrain(node, cmd));

  runners
    .command("rotate [nodes...]")
    .description("reset the runners' authentication tokens through the API and write the new ones to the nodes")
    .addOption(drainTimeout().hideHelp())
    .addOption(lockTimeout())
    .addHelpText(
      "after",
      `
Without nodes, every runner node. The node records the rotation first, so if pifleet stops between the reset
and the write, the next \`runners apply\` finishes it. Tokens are never printed.

Examples:
  $ pifleet runners rotate
  $ pifleet runners rotate pi2 pi3`,
    )
    .action(async (nodes: string[], opts: RotateFlags, cmd: Command) => (await actions()).rotate(nodes, opts, cmd));

  runners
    .command("prune")
    .description("delete pifleet's runners whose node or pool left fleet.yaml, and stale ones (no contact for 7 days)")
    .option("--no-stale", "keep stale runners; remove only those fleet.yaml no longer wants")
    .option("--dry-run", "show what would be deleted")
    .addOption(drainTimeout())
    .addOption(lockTimeout())
    .addHelpText(
      "after",
      `
Only runners with pifleet's marker in their maintenance note are deleted; each is paused and drained first.

Examples:
  $ pifleet runners prune --dry-run
  $ pifleet runners prune --no-stale`,
    )
    .action(async (opts: PruneFlags, cmd: Command) => (await actions()).prune(opts, cmd));
}
