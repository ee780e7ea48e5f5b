import type {
  SIM_ARCHES as ArchesOfTheSim,
  DEFAULT_SIM_DIR as DefaultDirOfTheSim,
  FaultAction,
  FAULT_ACTIONS as FaultActionsOfTheSim,
} from "@pifleet/sim";
import { Argument, type Command, Option } from "commander";
import type { DirFlags, UpFlags } from "./sim-actions.js";
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

  addSimGitlabCommand(sim);
}
