import { resolve } from "node:path";
import { InputError } from "@pifleet/fleet";
import { type FaultAction, type SimArch, type SimStatus, simDown, simFault, simStatus, simUp, startGitlabEmulator } from "@pifleet/sim";
import type { Command } from "commander";
import { globals, progressFor } from "../context.js";
import { info, paint, print, printJson, renderTable } from "../output.js";

export interface DirFlags {
  dir: string;
}
export interface UpFlags extends DirFlags {
  nodes: string;
  arch: SimArch;
  memory: string;
  gitlab: boolean;
}
export interface GitlabFlags {
  host: string;
  port: string;
  state: string;
}

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

export async function up(opts: UpFlags, cmd: Command): Promise<void> {
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
}

export async function status(opts: DirFlags, cmd: Command): Promise<void> {
  const status = await simStatus(opts.dir);
  if (globals(cmd).json) printJson(status);
  else printStatus(status);
}

export async function down(opts: DirFlags, cmd: Command): Promise<void> {
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
}

export async function fault(node: string, action: FaultAction, opts: DirFlags, cmd: Command): Promise<void> {
  const after = await simFault(opts.dir, node, action);
  if (globals(cmd).json) printJson(after);
  else print(`${after.name} (${after.address}): ${after.state}`);
}

/** `pifleet sim gitlab`: the GitLab API emulator in the foreground. */
export async function gitlab(opts: GitlabFlags, cmd: Command): Promise<void> {
  const port = Number(opts.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InputError(`--port: expected an integer 0..65535, got "${opts.port}"`);
  }
  const stateDir = resolve(opts.state);
  const emulator = await startGitlabEmulator({ host: opts.host, port, stateDir });
  if (globals(cmd).json) {
    printJson({
      url: emulator.url,
      tokenFile: emulator.tokenFile,
      token: emulator.adminToken,
      projectId: emulator.projectId,
      groupId: emulator.groupId,
      pid: process.pid,
    });
  } else {
    print(`GitLab emulator listening on ${emulator.url} (API at ${emulator.url}/api/v4)`);
    print(`admin token file: ${emulator.tokenFile}`);
    info("press Ctrl-C to stop");
  }
}
