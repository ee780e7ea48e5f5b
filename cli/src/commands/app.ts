import {
  appTopology,
  buildImages,
  type DeployResult,
  deployStack,
  type ImageArch,
  type RolloutResult,
  rollbackApp,
  type ServiceSnapshot,
  stackStatus,
  type TaskRow,
} from "@pifleet/counter-deploy";
import { type Fleet, InputError, OperationError } from "@pifleet/fleet";
import { type Command, Option } from "commander";
import { globals, loadFleet, progressFor } from "../context.js";
import { paint, print, printJson, renderTable } from "../output.js";

const archOption = () => new Option("--arch <arch>", "image architecture (default: the app nodes' arch)").choices(["amd64", "arm64"]);
const timeoutOption = () =>
  new Option("--timeout <seconds>", "stop waiting for the rollout after this long").default("300").argParser(positiveSeconds);

function positiveSeconds(value: string): string {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InputError(`--timeout: expected whole seconds, got "${value}"`);
  return value;
}

/** The one architecture the app nodes share; a mixed fleet would need a multi-arch manifest. */
function appArch(fleet: Fleet, wanted: string | undefined): ImageArch {
  if (wanted) return wanted as ImageArch;
  const arches = [...new Set(appTopology(fleet).appNodes.map((n) => n.arch))];
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

export function registerApp(program: Command): void {
  const app = program
    .command("app")
    .description("the page-view counter on the cluster: build its images, deploy the Swarm stack, watch it, roll it back")
    .addHelpText(
      "after",
      `
The stack (app on every app node, Redis with AOF on app.redis.node, HAProxy on the
load-balancer node) is generated from fleet.yaml; see docs/app.md.

Examples:
  $ pifleet app build                  build or reuse the images (content-hashed tags)
  $ pifleet app deploy                 push to the cluster registry, stack deploy, wait
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
    .action(async (opts: { arch?: string }, cmd: Command) => {
      const { fleet } = await loadFleet(cmd);
      const progress = progressFor(cmd);
      const result = await buildImages(appArch(fleet, opts.arch), (m) => progress.update(m)).finally(() => progress.done());
      if (globals(cmd).json) return printJson(result);
      for (const [kind, tag] of Object.entries(result.tags))
        print(`${kind.padEnd(12)} ${tag}${result.built.includes(tag) ? " (built)" : ""}`);
    });

  app
    .command("deploy")
    .description("build, push to the cluster registry, docker stack deploy on a manager, and wait until it converges or rolls back")
    .addOption(archOption())
    .addOption(timeoutOption())
    .addHelpText(
      "after",
      `
Exit 0 when every service runs the new images; exit 1 when Swarm rolled the update
back (failure_action rollback) or paused it, or when --timeout passes.
With --json, stdout is {"outcome", "images", "previousAppImage", "services", "tasks"}.`,
    )
    .action(async (opts: { arch?: string; timeout: string }, cmd: Command) => {
      const { fleet } = await loadFleet(cmd);
      const progress = progressFor(cmd);
      const result = await (async () => {
        const built = await buildImages(appArch(fleet, opts.arch), (m) => progress.update(m));
        return deployStack(built.tags, { fleet, progress: (m) => progress.update(m), timeoutMs: Number(opts.timeout) * 1000 });
      })().finally(() => progress.done());
      if (globals(cmd).json) printJson(result);
      else reportRollout(result, "deploy");
      if (result.outcome !== "converged") {
        throw new OperationError(
          `the update was ${result.outcome}: Swarm kept or restored the previous version`,
          "See `pifleet app status` and the app's logs (docker service logs pifleet_app on a manager).",
        );
      }
    });

  app
    .command("status")
    .description("services with their update state, and the tasks on each node")
    .addHelpText("after", '\nWith --json, stdout is {"services": [...], "tasks": [...]}.')
    .action(async (_opts, cmd: Command) => {
      const { fleet } = await loadFleet(cmd);
      const status = await stackStatus({ fleet });
      if (globals(cmd).json) return printJson(status);
      if (status.services.length === 0) return print("the stack is not deployed (run pifleet app deploy)");
      print(servicesTable(status.services));
      print();
      print(tasksTable(status.tasks));
    });

  app
    .command("rollback")
    .description("roll the app service back to its previous version (docker service rollback) and wait")
    .addOption(timeoutOption())
    .action(async (opts: { timeout: string }, cmd: Command) => {
      const { fleet } = await loadFleet(cmd);
      const progress = progressFor(cmd);
      const result = await rollbackApp({ fleet, progress: (m) => progress.update(m), timeoutMs: Number(opts.timeout) * 1000 }).finally(() =>
        progress.done(),
      );
      if (globals(cmd).json) return printJson(result);
      reportRollout(result, `rollback to ${result.image.replace(/@sha256:.*/, "")}`);
    });
}
