import {
  applyAppPlan,
  appTopology,
  buildImages,
  type DeployResult,
  type ImageArch,
  planApp,
  plannedImageTags,
  type RolloutResult,
  renderRolloutPlanMarkdown,
  renderRolloutPlanText,
  rollbackApp,
  rolloutPlanToJson,
  type ServiceSnapshot,
  stackStatus,
  type TaskRow,
} from "@pifleet/counter-deploy";
import { type Fleet, type FleetTopology, InputError, OperationError } from "@pifleet/fleet";
import type { Command } from "commander";
import { globals, loadFleet, progressFor } from "../context.js";
import { paint, print, printJson, renderTable } from "../output.js";

export interface BuildFlags {
  arch?: string;
}
export interface PlanFlags {
  arch?: string;
  format: "text" | "markdown" | "json";
}
export interface DeployFlags {
  arch?: string;
  /** Milliseconds (parsed by the --timeout duration flag). */
  timeout: number;
}
export interface RollbackFlags {
  timeout: number;
}

/** The one architecture the app nodes share; a mixed fleet would need a multi-arch manifest. */
function appArch(fleet: Fleet, topology: FleetTopology, wanted: string | undefined): ImageArch {
  if (wanted) return wanted as ImageArch;
  const arches = [...new Set(appTopology(fleet, topology).appNodes.map((n) => n.arch))];
  const [arch] = arches;
  if (arches.length !== 1 || (arch !== "amd64" && arch !== "arm64")) {
    throw new InputError(
      `app nodes have architectures ${arches.join(", ")}: pifleet builds one amd64 or arm64 image per deploy`,
      "Pass --arch, or give the app role to nodes of one architecture.",
    );
  }
  return arch;
}

function servicesTable(services: ServiceSnapshot[]): string {
  return renderTable(
    ["service", "running", "update", "message"],
    services.map((s) => [s.name, `${s.running}/${s.desired}`, s.update, s.updateMessage || "-"]),
  );
}

function tasksTable(tasks: TaskRow[]): string {
  const current = tasks
    .filter((t) => t.desiredState === "Running")
    .sort((a, b) => a.node.localeCompare(b.node) || a.service.localeCompare(b.service));
  return renderTable(
    ["node", "service", "state", "image", "error"],
    current.map((t) => [t.node, t.service, t.currentState, t.image.replace(/@sha256:.*/, ""), t.error || "-"]),
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
  const { fleet, topology } = await loadFleet(cmd);
  const progress = progressFor(cmd);
  const result = await buildImages(appArch(fleet, topology, opts.arch), (m) => progress.update(m)).finally(() => progress.done());
  if (globals(cmd).json) return printJson(result);
  for (const [kind, tag] of Object.entries(result.tags)) print(`${kind.padEnd(12)} ${tag}${result.built.includes(tag) ? " (built)" : ""}`);
}

export async function plan(opts: PlanFlags, cmd: Command): Promise<void> {
  const { fleet, topology } = await loadFleet(cmd);
  const progress = progressFor(cmd);
  const planned = await (async () => {
    const tags = await plannedImageTags(appArch(fleet, topology, opts.arch), (m) => progress.update(m));
    progress.update(`reading the stack on ${appTopology(fleet, topology).manager.name}`);
    return planApp(tags, { fleet, topology });
  })().finally(() => progress.done());
  const format = globals(cmd).json ? "json" : opts.format;
  if (format === "json") return printJson(rolloutPlanToJson(planned.plan));
  print(format === "markdown" ? renderRolloutPlanMarkdown(planned.plan) : renderRolloutPlanText(planned.plan));
}

export async function deploy(opts: DeployFlags, cmd: Command): Promise<void> {
  const { fleet, topology } = await loadFleet(cmd);
  const progress = progressFor(cmd);
  const result = await (async () => {
    const built = await buildImages(appArch(fleet, topology, opts.arch), (m) => progress.update(m));
    const options = { fleet, topology, progress: (m: string) => progress.update(m), timeoutMs: opts.timeout };
    const planned = await planApp(built.tags, options);
    // The plan goes to stderr with the progress: stdout stays the rollout's report (or its JSON, which includes the plan).
    for (const line of renderRolloutPlanText(planned.plan).split("\n")) progress.log(line);
    return applyAppPlan(built.tags, planned, options);
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
  const status = await stackStatus({ fleet, topology });
  if (globals(cmd).json) return printJson(status);
  if (status.services.length === 0) return print("the stack is not deployed (run pifleet app deploy)");
  print(servicesTable(status.services));
  print();
  print(tasksTable(status.tasks));
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
