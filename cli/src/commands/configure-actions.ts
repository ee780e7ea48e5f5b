import {
  checkConfigureInput,
  type PlaybookResult,
  ProgressTracker,
  planInventoryVariables,
  renderMarkdownReport,
  renderVarPlanMarkdown,
  configure as runConfigure,
} from "@pifleet/ansible-bridge";
import { ExitCode, type Fleet, InputError, loadFleetFile, OperationError, parseFleet } from "@pifleet/fleet";
import type { Command } from "commander";
import { globals, loadFleet, progressFor } from "../context.js";
import { print, printJson, renderTable } from "../output.js";
import type { Progress } from "../progress.js";
import { describeObservation, readObservation } from "./observe-file.js";

export interface ConfigureFlags {
  check?: boolean;
  diff?: boolean;
  limit?: string;
  tags?: string;
  format: "text" | "markdown";
  workDir: string;
  planAgainst?: string;
  observed?: string;
}

const list = (value: string | undefined): string[] =>
  (value ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

function printTable(result: PlaybookResult): void {
  const rows = Object.entries(result.hosts).map(([host, r]) => [
    host,
    String(r.ok),
    String(r.changed),
    String(r.unreachable),
    String(r.failed),
    String(r.skipped),
  ]);
  print(renderTable(["host", "ok", "changed", "unreachable", "failed", "skipped"], rows));
  for (const f of result.failures) print(`${f.host}: ${f.status}: ${f.task}: ${f.message}`);
}

/** Host failures are an operation failure (exit 1); Ansible's own errors are bad input (exit 2). */
export function throwIfFailed(result: PlaybookResult): void {
  if (result.exitCode === ExitCode.ok) return;
  const unreachable = Object.entries(result.hosts)
    .filter(([, r]) => r.unreachable > 0)
    .map(([h]) => h);
  const failed = Object.entries(result.hosts)
    .filter(([, r]) => r.failed > 0)
    .map(([h]) => h);
  if (result.exitCode === ExitCode.badInput)
    throw new InputError(
      `ansible-playbook rejected the run:\n${result.errors.join("\n") || "(no message)"}`,
      `Generated files: ${result.runDir}`,
    );
  const parts = [
    unreachable.length ? `unreachable: ${unreachable.join(", ")}` : "",
    failed.length ? `failed: ${failed.join(", ")}` : "",
  ].filter(Boolean);
  throw new OperationError(
    `configure did not converge every node (${parts.join("; ") || `ansible-playbook exit ${result.ansibleExitCode}`})`,
    unreachable.length
      ? "Check that the unreachable nodes are up and reachable over SSH, then re-run; the other nodes were configured."
      : undefined,
  );
}

/** site.yml with live progress: `pifleet configure` and `pifleet bootstrap` both converge the Pis through this. */
export async function convergeFleet(
  fleet: Fleet,
  options: { limit?: string[]; tags?: string[]; check?: boolean; diff?: boolean; workDir: string },
  progress: Progress,
): Promise<PlaybookResult> {
  const { limit = [], tags = [], check = false, diff = false, workDir } = options;
  checkConfigureInput(fleet, limit, tags);
  const tracker = new ProgressTracker();
  progress.update(`configuring ${fleet.nodes.length} nodes${check ? " (check mode)" : ""}`);
  let result: PlaybookResult;
  try {
    result = await runConfigure({
      fleet,
      limit,
      tags,
      check,
      diff,
      workDir,
      onEvent: (event) => {
        tracker.apply(event);
        if (event.kind === "result" && event.status === "unreachable") progress.log(`${event.host}: unreachable`);
        if (event.kind === "result" && event.status === "failed" && !event.ignored) progress.log(`${event.host}: failed: ${event.task}`);
        // One line per task: on a terminal it redraws, in CI logs it is one line each.
        if (event.kind === "task") progress.update(tracker.line());
      },
    });
  } catch (err) {
    progress.done();
    throw err;
  }
  const changed = changedTasks(result);
  progress.done(
    `configure ${check ? "checked" : "ran"} on ${Object.keys(result.hosts).length} hosts, ${changed} ${check ? "would change" : "changed"}`,
  );
  return result;
}

/** Tasks that changed (or would, in check mode), over every host. */
export const changedTasks = (result: PlaybookResult): number => Object.values(result.hosts).reduce((n, r) => n + r.changed, 0);

/**
 * `configure --observed FILE` / `--plan-against BASE`: the inventory variables this fleet file changes against
 * BASE's, or against the fleet file the observation was made with, plus the drift it recorded; no Pi is
 * contacted (MR plans: docs/security.md, design D).
 */
async function planAgainst(flags: ConfigureFlags, cmd: Command): Promise<void> {
  const { fleet } = await loadFleet(cmd);
  const observation = flags.observed ? await readObservation(flags.observed, fleet.cluster) : undefined;
  const recorded = observation?.fleetFile;
  const against = flags.planAgainst
    ? (await loadFleetFile(flags.planAgainst)).fleet
    : recorded
      ? parseFleet(recorded.text, `${flags.observed} (the observed ${recorded.path})`)
      : undefined;
  if (!against) throw new InputError(`${flags.observed} records no fleet file to plan against`, "Give one with --plan-against FILE.");
  const plan = planInventoryVariables(against, fleet);
  const drift = observation?.drift ?? null;
  if (globals(cmd).json) printJson({ ...plan, drift });
  else {
    // Which pipeline observed the fleet and when: the note's reader sees how old its state is.
    if (observation) print(`_${describeObservation(observation)}_\n`);
    print(renderVarPlanMarkdown(plan, drift).trimEnd());
  }
}

export async function configure(flags: ConfigureFlags, cmd: Command): Promise<void> {
  if (flags.planAgainst || flags.observed) return planAgainst(flags, cmd);
  const g = globals(cmd);
  const { fleet } = await loadFleet(cmd);
  const result = await convergeFleet(
    fleet,
    { limit: list(flags.limit), tags: list(flags.tags), check: Boolean(flags.check), diff: Boolean(flags.diff), workDir: flags.workDir },
    progressFor(cmd),
  );
  if (g.json) {
    const { hosts, check, changes, failures, errors, durationMs, runDir, exitCode } = result;
    printJson({ hosts, check, changes, failures, errors, durationMs, runDir, exitCode });
  } else if (flags.format === "markdown") print(renderMarkdownReport(result, { check: result.check }).trimEnd());
  else printTable(result);
  throwIfFailed(result);
}
