import { resolve } from "node:path";
import { InputError, loadFleetFile, OperationError } from "@pifleet/fleet";
import {
  changesBetween,
  DEFAULT_SIM_DIR,
  type FaultAction,
  type FollowEnd,
  failedJobs,
  findJob,
  fitWidth,
  followPipeline,
  newestPipelineId,
  type PipelineView,
  readPipelineView,
  readTrace,
  redraw,
  renderChange,
  renderPipeline,
  type SimArch,
  type SimGitlabTarget,
  type SimStatus,
  simDown,
  simFault,
  simGitlabTarget,
  simMirror,
  simPush,
  simStatus,
  simUp,
  startGitlabEmulator,
} from "@pifleet/sim";
import type { Command } from "commander";
import { globals, progressFor } from "../context.js";
import { info, paint, print, printJson, renderTable, useColour } from "../output.js";

export interface DirFlags {
  dir: string;
}
export interface UpFlags extends DirFlags {
  nodes: string;
  arch: SimArch;
  memory: string;
  gitlab: boolean;
}
export interface PushFlags extends DirFlags {
  repo: string;
  message?: string;
  branch?: string;
  fleetFile?: string;
  mirror: boolean;
}
export interface CiFlags extends DirFlags {
  follow?: boolean;
  trace?: string;
  /** Milliseconds (durationOption). */
  timeout: number;
  stuckTimeout: number;
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
    print(`control:     ${s.gitlab.url}/-/sim, header X-Pifleet-Sim-Control: the secret in ${s.gitlab.controlSecretFile}`);
  }
  print(`apt proxy:   ${s.aptProxy}`);
  if (s.network.vip)
    print(
      `app VIP:     ${s.network.vip} (keepalived on the loadbalancer nodes; the app at http://${s.network.vip.split("/")[0]} once deployed)`,
    );
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
      controlSecretFile: emulator.controlSecretFile,
      projectId: emulator.projectId,
      groupId: emulator.groupId,
      pid: process.pid,
    });
  } else {
    print(`GitLab emulator listening on ${emulator.url} (API at ${emulator.url}/api/v4)`);
    print(`admin token file: ${emulator.tokenFile}`);
    print(`control API (/-/sim) secret file: ${emulator.controlSecretFile}   (header X-Pifleet-Sim-Control)`);
    info("press Ctrl-C to stop");
  }
}

/** `pifleet sim mirror`: the public images the pipeline names, built here and pushed to the sim's registry. */
export async function mirror(opts: DirFlags, cmd: Command): Promise<void> {
  const progress = progressFor(cmd);
  const result = await simMirror({ dir: opts.dir, progress: (m) => progress.update(m) });
  progress.done(`sim mirror: ${result.pushed.length} pushed to ${result.registry}`);
  if (globals(cmd).json) {
    printJson(result);
    return;
  }
  print(renderTable(["variable", "image"], Object.entries(result.images)));
  print();
  print(`built here: ${result.built.length ? result.built.join(", ") : "none (cached)"}`);
  print(`pushed:     ${result.pushed.length ? result.pushed.join(", ") : "none (the registry has them)"}`);
}

/** The sim fleet's pipeline, from @pifleet/pipelines (loaded only by push: sim may not import it). */
async function generatedPipeline(fleetFile: string, repoPath: string): Promise<string> {
  const [{ generateProjectPipeline }, { fleet }] = await Promise.all([import("@pifleet/pipelines"), loadFleetFile(fleetFile, {})]);
  return generateProjectPipeline(fleet, repoPath).text;
}

/** `pifleet sim push`: the working tree to the sim's GitLab, which runs the pipeline. */
export async function push(opts: PushFlags, cmd: Command): Promise<void> {
  const progress = progressFor(cmd);
  const update = (m: string) => progress.update(m);
  // No sim, or its emulator down, is exit 3 as for `sim ci`, before the mirror builds anything.
  await simGitlabTarget(opts.dir);
  const images = opts.mirror ? (await simMirror({ dir: opts.dir, progress: update })).images : undefined;
  const result = await simPush({
    dir: opts.dir,
    repoRoot: opts.repo,
    message: opts.message,
    branch: opts.branch,
    fleetFile: opts.fleetFile,
    images,
    pipelineYaml: generatedPipeline,
    progress: update,
  });
  progress.done(`sim push: ${result.sha.slice(0, 8)} on ${result.branch}`);
  if (globals(cmd).json) {
    printJson(result);
    return;
  }
  const v = result.variables;
  print(
    `pushed ${result.sha.slice(0, 8)} to ${result.branch} of ${result.project}: ${result.files} files, ${result.changed ? "changed" : "nothing changed (an empty commit)"}`,
  );
  print(`CI/CD variables: ${v.created.length} created, ${v.updated.length} updated, ${v.unchanged.length} unchanged`);
  if (result.pipeline) {
    print(`pipeline #${result.pipeline.id} ${result.pipeline.status}: ${result.pipeline.web_url}`);
    print(`follow it:  pifleet sim ci ${result.pipeline.id} --follow${opts.dir === DEFAULT_SIM_DIR ? "" : ` --dir ${opts.dir}`}`);
  } else {
    print("no pipeline: the push created none (the pipeline's workflow rules run none for this branch without a merge request)");
  }
}

function pipelineIdOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) throw new InputError(`pipeline: expected a pipeline id (a number), got "${text}"`);
  return Number(text);
}

/** Log lines of a failed job, the end only: enough to see why, with the command for the rest. */
const TRACE_TAIL = 25;

async function printFailedTraces(target: SimGitlabTarget, view: PipelineView): Promise<void> {
  for (const job of failedJobs(view)) {
    const lines = (await readTrace(target, job.id)).trimEnd().split("\n");
    info(
      `\n--- ${job.name} (job #${job.id}${job.node ? ` on ${job.node}` : ""}), last ${Math.min(TRACE_TAIL, lines.length)} lines of its log:`,
    );
    info(lines.slice(-TRACE_TAIL).join("\n"));
    info(`--- the whole log: pifleet sim ci ${view.id} --trace ${job.name}`);
  }
}

/** Why the pipeline is not a success, as an error the person can act on (exit 1). */
function outcomeError(view: PipelineView, end: FollowEnd | null, timeout: number): OperationError | undefined {
  if (end === "stalled") {
    const stuck = view.jobs.filter((j) => j.stuckReason);
    return new OperationError(
      `pipeline #${view.id} is stuck: no runner can take ${stuck.map((j) => j.name).join(", ")}: ${stuck[0]?.stuckReason ?? ""}`,
      "Check that the fleet's runners are registered and online (`pifleet runners status`), and their tags.",
    );
  }
  if (end === "timeout") {
    return new OperationError(
      `pipeline #${view.id} is still ${view.status} after ${Math.round(timeout / 60_000)} min`,
      "Follow it again, or give --timeout.",
    );
  }
  const failed = failedJobs(view);
  if (view.status !== "failed" && view.status !== "canceled") return undefined;
  const what = view.yamlErrors
    ? `its configuration is invalid: ${view.yamlErrors}`
    : `${failed.map((j) => `${j.name} ${j.status}${j.failureReason ? ` (${j.failureReason})` : ""}`).join(", ")}`;
  return new OperationError(
    `pipeline #${view.id} ${view.status}: ${what}`,
    failed[0] ? `Read a job's log: pifleet sim ci ${view.id} --trace ${failed[0].name}` : undefined,
  );
}

/** The pipeline's report as lines: header, the job table, the summary. */
function pipelineLines(view: PipelineView, colour: boolean): string[] {
  const { header, table, footer } = renderPipeline(view, { colour });
  return [...header, "", ...(table ? [...renderTable(table.headers, table.rows).split("\n"), ""] : []), ...footer];
}

/** `pifleet sim ci`: a pipeline of the sim's GitLab, once or followed to its end. */
export async function ci(pipelineArg: string | undefined, opts: CiFlags, cmd: Command): Promise<void> {
  const json = globals(cmd).json;
  const requested = pipelineIdOf(pipelineArg);
  const target = await simGitlabTarget(opts.dir);
  const id = requested ?? (await newestPipelineId(target));
  const read = () => readPipelineView(target, id);

  if (opts.trace !== undefined) {
    const job = findJob(await read(), opts.trace);
    process.stdout.write(await readTrace(target, job.id));
    return;
  }

  const colour = !json && useColour(process.stdout);
  let view: PipelineView;
  // How following ended; null for a single look.
  let end: FollowEnd | null = null;
  if (!opts.follow) {
    view = await read();
  } else {
    const live = !json && Boolean(process.stdout.isTTY);
    let rows = 0;
    const stamp = () => new Date().toISOString().slice(11, 19);
    const followed = await followPipeline({
      read,
      timeoutMs: opts.timeout,
      stallMs: opts.stuckTimeout,
      onView: (next, previous) => {
        if (live) {
          const lines = fitWidth(pipelineLines(next, colour), process.stdout.columns ?? 100);
          process.stdout.write(redraw(rows, lines));
          rows = lines.length;
          return;
        }
        const write = json ? info : print;
        for (const change of changesBetween(previous, next)) write(renderChange(change, stamp(), { colour }));
      },
    });
    view = followed.view;
    end = followed.end;
  }

  if (json) printJson({ ...view, end });
  else if (!(opts.follow && process.stdout.isTTY)) {
    if (opts.follow) print();
    for (const line of pipelineLines(view, colour)) print(line);
  }
  const error = outcomeError(view, end, opts.timeout);
  if (error) {
    if (opts.follow && !json) await printFailedTraces(target, view);
    throw error;
  }
}
