import {
  type AppImages,
  applyAppPlan,
  appTopology,
  buildAndPushImages,
  buildImages,
  type DeployResult,
  type ImageArch,
  parseBuildReport,
  parseImagesFile,
  pipelineImages,
  planApp,
  plannedImageTags,
  planObservedApp,
  pushManifestLists,
  type RolloutResult,
  renderRolloutPlanMarkdown,
  renderRolloutPlanText,
  rollbackApp,
  rolloutPlanToJson,
  type ServiceSnapshot,
  STACK_KINDS,
  stackStatus,
  type TaskRow,
} from "@pifleet/counter-deploy";
import { type Fleet, type FleetTopology, InputError, OperationError } from "@pifleet/fleet";
import type { Command } from "commander";
import { globals, loadFleet, progressFor } from "../context.js";
import { paint, print, printJson, renderTable, warn } from "../output.js";
import { readInputFile, readObservation } from "./observe-file.js";

export interface BuildFlags {
  arch?: string;
  /** --base-image, or PIFLEET_DEBIAN_IMAGE (empty: unset). */
  baseImage?: string;
  push?: string;
}
export interface PlanFlags {
  arch?: string;
  format: "text" | "markdown" | "json";
  images?: string;
  baseImage?: string;
  prefix?: string;
  observed?: string;
}
export interface DeployFlags {
  arch?: string;
  /** Milliseconds (parsed by the --timeout duration flag). */
  timeout: number;
  images?: string;
}
export interface RollbackFlags {
  timeout: number;
}

/** The one architecture the app nodes share; a mixed fleet builds once per architecture (`app build --arch`, `app manifest`). */
function appArch(fleet: Fleet, topology: FleetTopology, wanted: string | undefined): ImageArch {
  if (wanted) return wanted as ImageArch;
  const arches = [...new Set(appTopology(fleet, topology).appNodes.map((n) => n.arch))];
  const [arch] = arches;
  if (arches.length !== 1 || (arch !== "amd64" && arch !== "arm64")) {
    throw new InputError(
      `app nodes have architectures ${arches.join(", ")}: without --arch, pifleet builds one amd64 or arm64 image`,
      "Pass --arch, or build each architecture with `app build --arch A --push PREFIX` and join them with `app manifest`.",
    );
  }
  return arch;
}

/** --arch when given (no fleet needed), else the app nodes' architecture from the fleet. */
async function archFor(cmd: Command, wanted: string | undefined): Promise<ImageArch> {
  if (wanted) return wanted as ImageArch;
  const { fleet, topology } = await loadFleet(cmd);
  return appArch(fleet, topology, undefined);
}

const readImages = async (file: string) => parseImagesFile(await readInputFile(file, "images file"), file);
const baseImageOf = (flags: { baseImage?: string }) => (flags.baseImage?.trim() ? { baseImage: flags.baseImage.trim() } : {});

function servicesTable(services: ServiceSnapshot[]): string {
  return renderTable(
    ["service", "running", "update", "message"],
    services.map((s) => [s.name, `${s.running}/${s.desired}`, s.update, s.updateMessage || "-"]),
  );
}

/** `repo:tag@sha256:<64 hex>` → `repo:tag@sha256:<12 hex>`: the digest a task runs, short enough for a table. */
const shortDigest = (image: string) => image.replace(/(@sha256:[0-9a-f]{12})[0-9a-f]{52}$/, "$1");

function tasksTable(tasks: TaskRow[]): string {
  const current = tasks
    .filter((t) => t.desiredState === "Running")
    .sort((a, b) => a.node.localeCompare(b.node) || a.service.localeCompare(b.service));
  return renderTable(
    ["node", "service", "state", "image", "error"],
    current.map((t) => [t.node, t.service, t.currentState, shortDigest(t.image), t.error || "-"]),
  );
}

function reportRollout(result: RolloutResult | DeployResult, what: string): void {
  const colour = result.outcome === "converged" ? "green" : "yellow";
  print(paint(`${what}: ${result.outcome} after ${result.seconds.toFixed(0)} s`, colour));
  print();
  print(servicesTable(result.services));
  print();
  print(tasksTable(result.tasks));
}

export async function build(opts: BuildFlags, cmd: Command): Promise<void> {
  const arch = await archFor(cmd, opts.arch);
  const progress = progressFor(cmd);
  const options = { progress: (m: string) => progress.update(m), ...baseImageOf(opts) };
  if (opts.push) {
    const pushed = await buildAndPushImages(arch, opts.push, options).finally(() => progress.done());
    if (globals(cmd).json) return printJson(pushed);
    for (const kind of STACK_KINDS) {
      const { ref, digest } = pushed.images[kind];
      print(`${kind.padEnd(12)} ${ref}@${digest} ${pushed.pushed.includes(ref) ? "(pushed)" : "(in the registry already)"}`);
    }
    return;
  }
  const result = await buildImages(arch, options).finally(() => progress.done());
  if (globals(cmd).json) return printJson(result);
  for (const [kind, tag] of Object.entries(result.tags)) print(`${kind.padEnd(12)} ${tag}${result.built.includes(tag) ? " (built)" : ""}`);
}

export async function manifest(files: string[], cmd: Command): Promise<void> {
  const reports = await Promise.all(files.map(async (f) => parseBuildReport(await readInputFile(f, "build report"), f)));
  const progress = progressFor(cmd);
  const images = await pushManifestLists(reports, (m) => progress.update(m)).finally(() => progress.done());
  if (globals(cmd).json) return printJson(images);
  for (const kind of STACK_KINDS) print(`${kind.padEnd(12)} ${images[kind]}`);
}

/** What `app plan` without an images file plans: this checkout's images by tag, as built here or as a pipeline pushes them. */
async function plannedImages(opts: PlanFlags, fleet: Fleet, topology: FleetTopology, progress: (m: string) => void): Promise<AppImages> {
  // A pipeline's list tags carry no architecture (every arch's build has one hash): any will do, even in a mixed fleet.
  const arch = opts.prefix ? ((opts.arch ?? "amd64") as ImageArch) : appArch(fleet, topology, opts.arch);
  const tags = await plannedImageTags(arch, { progress, ...baseImageOf(opts) });
  return opts.prefix ? { registry: pipelineImages(opts.prefix, tags, arch) } : { built: tags };
}

export async function plan(opts: PlanFlags, cmd: Command): Promise<void> {
  // A malformed images file fails before the fleet is read or any node contacted.
  const pinned = opts.images ? await readImages(opts.images) : undefined;
  const { fleet, topology } = await loadFleet(cmd);
  const observation = opts.observed ? await readObservation(opts.observed, fleet.cluster) : undefined;
  const progress = progressFor(cmd);
  const planned = await (async () => {
    const source = pinned ? { registry: pinned } : await plannedImages(opts, fleet, topology, (m) => progress.update(m));
    // A merge request's plan holds no SSH key: it plans against the stack a protected job observed.
    if (observation) return { plan: planObservedApp(source, observation.swarm, { fleet, topology }) };
    progress.update(`reading the stack on ${appTopology(fleet, topology).manager.name}`);
    return planApp(source, { fleet, topology });
  })().finally(() => progress.done());
  const format = globals(cmd).json ? "json" : opts.format;
  if (format === "json") return printJson(rolloutPlanToJson(planned.plan));
  print(format === "markdown" ? renderRolloutPlanMarkdown(planned.plan) : renderRolloutPlanText(planned.plan));
}

export async function deploy(opts: DeployFlags, cmd: Command): Promise<void> {
  const pinned = opts.images ? await readImages(opts.images) : undefined;
  const { fleet, topology } = await loadFleet(cmd);
  const progress = progressFor(cmd);
  const result = await (async () => {
    const update = (m: string) => progress.update(m);
    const source: AppImages = pinned
      ? { registry: pinned }
      : { built: (await buildImages(appArch(fleet, topology, opts.arch), { progress: update })).tags };
    const options = { fleet, topology, progress: update, timeoutMs: opts.timeout };
    const planned = await planApp(source, options);
    // The plan goes to stderr with the progress: stdout stays the rollout's report (or its JSON, which includes the plan).
    for (const line of renderRolloutPlanText(planned.plan).split("\n")) progress.log(line);
    return applyAppPlan(source, planned, options);
  })().finally(() => progress.done());
  if (globals(cmd).json) printJson(result);
  else reportRollout(result, "deploy");
  if (result.outcome !== "converged") {
    throw new OperationError(
      `the update was ${result.outcome}: Swarm kept or restored the previous version`,
      "See `pifleet app status` and the app's logs (docker service logs pifleet_app on a manager).",
    );
  }
}

export async function status(cmd: Command): Promise<void> {
  const { fleet, topology } = await loadFleet(cmd);
  // A manager that does not answer is said on stderr; the status comes from the next one.
  const status = await stackStatus({ fleet, topology, progress: (m) => warn(m) });
  if (globals(cmd).json) return printJson(status);
  if (status.services.length === 0) return print("the stack is not deployed (run pifleet app deploy)");
  print(servicesTable(status.services));
  print();
  print(tasksTable(status.tasks));
  const lb = topology.loadBalancer;
  if (lb) print(`\nserved at ${lb.url}${lb.vip ? ` (the VIP; load balancers on ${lb.nodes.map((n) => n.name).join(", ")})` : ""}`);
}

export async function rollback(opts: RollbackFlags, cmd: Command): Promise<void> {
  const { fleet, topology } = await loadFleet(cmd);
  const progress = progressFor(cmd);
  const result = await rollbackApp({ fleet, topology, progress: (m) => progress.update(m), timeoutMs: opts.timeout }).finally(() =>
    progress.done(),
  );
  if (globals(cmd).json) return printJson(result);
  reportRollout(result, `rollback to ${result.image.replace(/@sha256:.*/, "")}`);
}
