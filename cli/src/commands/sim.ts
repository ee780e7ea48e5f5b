import { InputError } from "@pifleet/fleet";
import {
  DEFAULT_SIM_DIR,
  FAULT_ACTIONS,
  type FaultAction,
  SIM_ARCHES,
  type SimArch,
  type SimStatus,
  simDown,
  simFault,
  simStatus,
  simUp,
} from "@pifleet/sim";
import { Argument, type Command, Option } from "commander";
import { globals, progressFor } from "../context.js";
import { paint, print, printJson, renderTable } from "../output.js";
import { addSimGitlabCommand } from "./sim-gitlab.js";

const dirOption = () =>
  new Option("--dir <dir>", "directory holding the sim's files (one sim per dir)").env("PIFLEET_SIM_DIR").default(DEFAULT_SIM_DIR);

function printStatus(s: SimStatus): void {
  print(`sim ${s.instance} (${s.nodes.length} × ${s.arch}) on ${s.network.name} ${s.network.subnet}`);
  print();
  print(
    renderTable(
      ["node", "address", "state", "roles"],
      s.nodes.map((n) => [
        n.name,
        n.address,
        n.state === "running" ? paint(n.state, "green") : paint(n.state, "yellow"),
        n.roles.join(","),
      ]),
    ),
  );
  print();
  print(`fleet file:  ${s.fleetFile}`);
  print(
    `ssh:         ssh -i ${s.sshKey} -o UserKnownHostsFile=${s.knownHosts} -o StrictHostKeyChecking=yes ${s.sshUser}@${s.nodes[0]?.address ?? "ADDRESS"}`,
  );
  if (s.gitlab) {
    print(`gitlab:      ${s.gitlab.url}${s.gitlab.running ? "" : paint(" (not running)", "yellow")}, project ${s.gitlab.projectId}`);
    print(`token file:  ${s.gitlab.tokenFile}   (export GITLAB_TOKEN=$(cat ${s.gitlab.tokenFile}))`);
  }
  print(`apt proxy:   ${s.aptProxy}`);
  if (s.runnerService === "stand-in")
    print("runners:     gitlab-runner.service is sim/runner-standin: it contacts the emulator, so runners show online; it runs no jobs");
}

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
    .action(async (opts: { nodes: string; arch: SimArch; memory: string; gitlab: boolean; dir: string }, cmd: Command) => {
      const nodes = Number(opts.nodes);
      if (!Number.isInteger(nodes)) throw new InputError(`--nodes: expected a whole number, got "${opts.nodes}"`);
      const progress = progressFor(cmd);
      const status = await simUp({
        dir: opts.dir,
        nodes,
        arch: opts.arch,
        memory: opts.memory,
        gitlab: opts.gitlab,
        progress: (m) => progress.update(m),
      });
      progress.done(`sim up: ${status.nodes.length} nodes`);
      if (globals(cmd).json) printJson(status);
      else printStatus(status);
    });

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
    .action(async (opts: { dir: string }, cmd: Command) => {
      const status = await simStatus(opts.dir);
      if (globals(cmd).json) printJson(status);
      else printStatus(status);
    });

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
    .action(async (opts: { dir: string }, cmd: Command) => {
      const progress = progressFor(cmd);
      progress.update("removing the sim");
      const result = await simDown(opts.dir);
      progress.done();
      if (globals(cmd).json) printJson(result);
      else {
        const r = result.removed;
        print(`sim ${result.instance} down: removed ${r.containers} containers, ${r.networks} networks, ${r.volumes} volumes`);
        if (result.stoppedServices.length > 0) print(`stopped shared services: ${result.stoppedServices.join(", ")}`);
      }
    });

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
    .action(async (node: string, action: FaultAction, opts: { dir: string }, cmd: Command) => {
      const after = await simFault(opts.dir, node, action);
      if (globals(cmd).json) printJson(after);
      else print(`${after.name} (${after.address}): ${after.state}`);
    });

  addSimGitlabCommand(sim);
}
