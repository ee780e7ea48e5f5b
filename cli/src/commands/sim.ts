import type {
  SIM_ARCHES as ArchesOfTheSim,
  DEFAULT_SIM_DIR as DefaultDirOfTheSim,
  FaultAction,
  FAULT_ACTIONS as FaultActionsOfTheSim,
} from "@pifleet/sim";
import { Argument, type Command, Option } from "commander";
import { durationOption } from "../flags.js";
import type { CiFlags, DirFlags, PushFlags, UpFlags } from "./sim-actions.js";
import { addSimGitlabCommand } from "./sim-gitlab.js";

const actions = () => import("./sim-actions.js");

/*
 * The sim's choices and default directory, for parsing and help. Spelled out so that registering `sim`
 * does not load @pifleet/sim (Docker, SSH, the emulator); each has the type of the sim's own constant,
 * so the compiler rejects any difference.
 */
const SIM_ARCHES: typeof ArchesOfTheSim = ["amd64", "arm64"];
const FAULT_ACTIONS: typeof FaultActionsOfTheSim = ["stop", "start", "pause", "unpause", "partition", "heal"];
const DEFAULT_SIM_DIR: typeof DefaultDirOfTheSim = ".pifleet/sim";

const dirOption = () =>
  new Option("--dir <dir>", "directory holding the sim's files (one sim per dir)").env("PIFLEET_SIM_DIR").default(DEFAULT_SIM_DIR);

/** `pifleet sim …`: a simulated Pi fleet on this machine (logic in @pifleet/sim). */
export function registerSim(program: Command): void {
  const sim = program
    .command("sim")
    .description("a simulated Pi fleet on this machine: Pi-like nodes in Docker plus a GitLab API emulator")
    .addHelpText(
      "after",
      `
Nodes are Debian bookworm containers with systemd, sshd (key-only, host keys pinned) and room
for their own Docker engine, on a network inside 198.19.0.0/16. Several sims coexist: each
--dir is its own instance. See sim/README.md.

Examples:
  $ pifleet sim up                     4 amd64 nodes + GitLab emulator under .pifleet/sim
  $ pifleet validate --fleet .pifleet/sim/fleet.yaml
  $ pifleet sim status --json | jq -r '.nodes[].address'
  $ pifleet sim fault pi3 partition && pifleet sim fault pi3 heal
  $ pifleet sim push && pifleet sim ci --follow     run the pipeline on the sim
  $ pifleet sim down`,
    );

  sim
    .command("up")
    .description("start nodes pi1..piN, the GitLab emulator and the apt proxy; write a fleet file")
    .addOption(new Option("--nodes <n>", "number of nodes").default("4"))
    .addOption(
      new Option("--arch <arch>", "node CPU architecture (arm64: qemu-user, slower, no nested Docker)")
        .choices(SIM_ARCHES)
        .default("amd64"),
    )
    .addOption(new Option("--memory <size>", "memory per node (a Pi 4 2 GB: 2g)").default("2g"))
    .addOption(new Option("--no-gitlab", "do not start the GitLab API emulator"))
    .addOption(dirOption())
    .addHelpText(
      "after",
      `
The first run builds the node image (debootstrap, a few minutes); later runs reuse it
(tag = content hash of sim/image). Running up again on a live sim restarts stopped nodes.

Examples:
  $ pifleet sim up --nodes 2
  $ pifleet sim up --nodes 2 --arch arm64 --dir .pifleet/sim-arm64
  $ ssh -i .pifleet/sim/id_ed25519 -o UserKnownHostsFile=.pifleet/sim/known_hosts pi@198.19.255.11`,
    )
    .action(async (opts: UpFlags, cmd: Command) => (await actions()).up(opts, cmd));

  sim
    .command("status")
    .description("show the sim's nodes, files and GitLab emulator")
    .addOption(dirOption())
    .addHelpText(
      "after",
      `
With --json: one object with fleetFile, sshKey, knownHosts, nodes [{name, address, state}] and
gitlab {url, token} (the token is a secret: it is printed only with --json).
Node states: running, stopped, paused, partitioned, missing.

Examples:
  $ pifleet sim status
  $ export GITLAB_TOKEN=$(pifleet sim status --json | jq -r .gitlab.token)`,
    )
    .action(async (opts: DirFlags, cmd: Command) => (await actions()).status(opts, cmd));

  sim
    .command("down")
    .description("remove the sim's containers, networks, volumes and files (the cached image stays)")
    .addOption(dirOption())
    .addHelpText(
      "after",
      `
Removes only what carries this sim's label. The last sim on the machine also stops the shared
lxcfs and apt-cacher-ng if a sim started them (the apt cache itself stays).

Examples:
  $ pifleet sim down --dir .pifleet/sim`,
    )
    .action(async (opts: DirFlags, cmd: Command) => (await actions()).down(opts, cmd));

  sim
    .command("fault")
    .description("inject a fault into one node: stop|start|pause|unpause|partition|heal")
    .argument("<node>", "node name, e.g. pi2")
    .addArgument(new Argument("<action>", "what to do").choices(FAULT_ACTIONS))
    .addOption(dirOption())
    .addHelpText(
      "after",
      `
partition cuts the node off the sim network while it keeps running; heal reconnects it at the
same address. stop is a clean systemd shutdown; start boots it again. start, unpause and heal
return once the node answers SSH again.

Examples:
  $ pifleet sim fault pi2 stop
  $ pifleet sim fault pi3 partition
  $ pifleet sim fault pi3 heal`,
    )
    .action(async (node: string, action: FaultAction, opts: DirFlags, cmd: Command) => (await actions()).fault(node, action, opts, cmd));

  sim
    .command("mirror")
    .description("put the public images the pipeline names (node, docker, debian) into the cluster registry, built here")
    .addOption(dirOption())
    .addHelpText(
      "after",
      `
Nothing can be pulled from the internet here, so the images the pipeline names through variables
(PIFLEET_NODE_IMAGE, PIFLEET_DOCKER_IMAGE, PIFLEET_DEBIAN_IMAGE) are built on this machine from
Debian packages and pushed to the sim's registry under mirror/, as an air-gapped GitLab uses a
mirror. Needs a configured sim (its registry runs): \`pifleet configure\` first. Built images are
cached; a second run pushes nothing.

Examples:
  $ pifleet sim mirror
  $ pifleet sim mirror --json | jq .images`,
    )
    .action(async (opts: DirFlags, cmd: Command) => (await actions()).mirror(opts, cmd));

  sim
    .command("push")
    .description("push this repository's working tree to the sim's GitLab, with the sim's fleet file: runs the pipeline")
    .addOption(dirOption())
    .addOption(new Option("--repo <dir>", "the repository whose git-tracked files are pushed").default("."))
    .addOption(new Option("--message <text>", "commit message (default: names HEAD and whether it had uncommitted changes)"))
    .addOption(new Option("--branch <name>", "branch to push to (default: the project's default branch, main)"))
    .addOption(new Option("--fleet-file <path>", "push this fleet file instead of the sim's (e.g. without a Pi, for a scale-in MR)"))
    .addOption(new Option("--no-mirror", "leave the image variables as they are (default: run `sim mirror` and point them at its images)"))
    .addHelpText(
      "after",
      `
What a person does with a real GitLab, on the sim's:
  1. sets the project's CI/CD variables: PIFLEET_SSH_KEY (file: the sim's key) and GITLAB_TOKEN (a masked
     api token), both protected and scoped to the environment production; PIFLEET_NOTE_TOKEN (a masked
     Reporter project access token, for the MR plan note); PIFLEET_BUILD_PROXY (the host's apt proxy)
     and the image variables (sim mirror);
  2. commits the working tree's git-tracked files (uncommitted edits included, untracked files not)
     plus the sim's fleet file and known_hosts as fleet/sim/ and the .gitlab-ci.yml generated for
     that fleet, on top of the branch on the emulator; an empty commit when nothing changed;
  3. pushes it over HTTP (a write_repository token, revoked after; never in argv or on disk);
  4. prints the pipeline the push started.
The local repository is <dir>/project (bare).

Examples:
  $ pifleet sim push && pifleet sim ci --follow
  $ pifleet sim push --branch add-pi5 --message "fleet: plug in pi5"
  $ pifleet sim push --branch remove-pi5 --fleet-file fleet-without-pi5.yaml
  $ id=$(pifleet sim push --json | jq .pipeline.id) && pifleet sim ci "$id" --follow`,
    )
    .action(async (opts: PushFlags, cmd: Command) => (await actions()).push(opts, cmd));

  sim
    .command("ci")
    .description("show a pipeline of the sim's GitLab: each job's stage, node, runner, status and duration")
    .argument("[pipeline]", "pipeline id (default: the newest on the default branch)")
    .addOption(dirOption())
    .addOption(new Option("--follow", "keep showing it until it finishes (redrawn on a terminal, a line per change otherwise)"))
    .addOption(new Option("--trace <job>", "print a job's log (job name or id) instead"))
    .addOption(durationOption("--timeout <duration>", "with --follow: give up after this long", "60m"))
    .addOption(
      durationOption("--stuck-timeout <duration>", "with --follow: give up when no runner can take the waiting jobs for this long", "2m"),
    )
    .addHelpText(
      "after",
      `
Exit status: 0 the pipeline succeeded (or is still running, without --follow), 1 it failed or was
canceled (or, with --follow, is stuck or timed out), 2 no such pipeline or job, 3 no sim or its
GitLab emulator is not running. With --json: the final state as one object.
After a failed pipeline --follow prints the end of each failed job's log.

Examples:
  $ pifleet sim ci --follow
  $ pifleet sim ci 12
  $ pifleet sim ci 12 --trace deploy
  $ pifleet sim ci --json | jq '.jobs[] | {name, node, status}'`,
    )
    .action(async (pipeline: string | undefined, opts: CiFlags, cmd: Command) => (await actions()).ci(pipeline, opts, cmd));

  addSimGitlabCommand(sim);
}
