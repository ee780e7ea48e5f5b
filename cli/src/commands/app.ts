import { type Command, Option } from "commander";
import { durationOption } from "../flags.js";
import type { BuildFlags, DeployFlags, PlanFlags, RollbackFlags } from "./app-actions.js";

const actions = () => import("./app-actions.js");

const archOption = () => new Option("--arch <arch>", "image architecture (default: the app nodes' arch)").choices(["amd64", "arm64"]);
const timeoutOption = () => durationOption("--timeout <duration>", "stop waiting for the rollout after this long", "5m");

export function registerApp(program: Command): void {
  const app = program
    .command("app")
    .description("the page-view counter on the cluster: build its images, plan and deploy the Swarm stack, watch it, roll it back")
    .addHelpText(
      "after",
      `
The stack (app on every app node, Redis with AOF on app.redis.node, HAProxy on the
load-balancer node) is generated from fleet.yaml; see docs/app.md.

Examples:
  $ pifleet app build                  build or reuse the images (content-hashed tags)
  $ pifleet app plan                   what a deploy would change in the Swarm; changes nothing
  $ pifleet app deploy                 plan, then push to the cluster registry, stack deploy, wait
  $ pifleet app status --json | jq '.services'
  $ pifleet app rollback               back to the previous app version`,
    );

  app
    .command("build")
    .description("build the app, Redis and load-balancer images on this machine (unchanged ones are reused)")
    .addOption(archOption())
    .addHelpText(
      "after",
      "\nBases are built from Debian packages (debootstrap) and the official Node binary from npm; no registry is needed.",
    )
    .action(async (opts: BuildFlags, cmd: Command) => (await actions()).build(opts, cmd));

  app
    .command("plan")
    .description("show the rollout a deploy would make (services to create, update, remove; images old → new); changes nothing")
    .addOption(archOption())
    .addOption(
      new Option("--format <format>", "text (like terraform plan), markdown (for an MR note) or json")
        .choices(["text", "markdown", "json"])
        .default("text"),
    )
    .addHelpText(
      "after",
      `
Computes the image tags this checkout would deploy (nothing is built or pushed) and reads what
the Swarm runs on the first manager (docker service ls/inspect, docker stack ps; read-only).
--json is --format json: {"version":1,"stack","changes":[...],"unchanged":[...],"warnings":[...]}.`,
    )
    .action(async (opts: PlanFlags, cmd: Command) => (await actions()).plan(opts, cmd));

  app
    .command("deploy")
    .description("build, plan, push to the cluster registry, docker stack deploy on a manager, and wait until it converges or rolls back")
    .addOption(archOption())
    .addOption(timeoutOption())
    .addHelpText(
      "after",
      `
Exit 0 when every service runs the new images; exit 1 when Swarm rolled the update
back (failure_action rollback) or paused it, or when --timeout passes.
The plan (as \`pifleet app plan\` prints it) goes to stderr first; an empty plan deploys nothing.
With --json, stdout is {"outcome", "images", "previousAppImage", "services", "tasks", "plan"}.`,
    )
    .action(async (opts: DeployFlags, cmd: Command) => (await actions()).deploy(opts, cmd));

  app
    .command("status")
    .description("services with their update state, and the tasks on each node")
    .addHelpText("after", '\nWith --json, stdout is {"services": [...], "tasks": [...]}.')
    .action(async (_opts, cmd: Command) => (await actions()).status(cmd));

  app
    .command("rollback")
    .description("roll the app service back to its previous version (docker service rollback) and wait")
    .addOption(timeoutOption())
    .action(async (opts: RollbackFlags, cmd: Command) => (await actions()).rollback(opts, cmd));
}
