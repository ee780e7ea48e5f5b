import { type Fleet, OperationError } from "@pifleet/fleet";
import {
  type ApplyReport,
  applyPlan,
  connectRunners,
  desiredFromFleet,
  drainNode,
  explainRunnerError,
  fleetRunnerStatus,
  type Note,
  nodeRunningThisJob,
  type Plan,
  planFleet,
  planningObservation,
  planRunners,
  planToJson,
  prune as pruneRunners,
  type RunnerContext,
  readFreshPlan,
  renderPlanMarkdown,
  renderPlanText,
  rotateTokens,
  undrainNode,
  withRunnersLock,
  writePlanFile,
} from "@pifleet/runner-manager";
import type { Command } from "commander";
import { type GlobalOptions, globals, loadFleet, progressFor } from "../context.js";
import { info, paint, print, printJson, renderTable } from "../output.js";
import type { Progress } from "../progress.js";
import { readObservation } from "./observe-file.js";

/** The flags of each runners subcommand; durations are milliseconds (parsed by the duration flags). */
export interface PlanFlags {
  format: string;
  out?: string;
  observed?: string;
}
export interface ApplyFlags {
  drainTimeout: number;
  lockTimeout: number;
}
export interface DrainFlags {
  timeout: number;
  force?: boolean;
}
export interface RotateFlags {
  drainTimeout: number;
  lockTimeout: number;
}
export interface PruneFlags {
  stale: boolean;
  dryRun?: boolean;
  drainTimeout: number;
  lockTimeout: number;
}

/** How long a runner change waits for another one's runners lock without `--lock-timeout` (bootstrap): as that flag's default, 15m. */
const DEFAULT_LOCK_TIMEOUT_MS = 15 * 60_000;

type Run<T> = (ctx: RunnerContext, fleet: Fleet, g: GlobalOptions, progress: Progress) => Promise<T>;

/** Loads the fleet, connects to GitLab and the nodes, runs, and always closes SSH; GitLab errors become exit-1 errors with a hint. */
async function withRunners<T>(cmd: Command, run: Run<T>): Promise<T> {
  const g = globals(cmd);
  const loaded = await loadFleet(cmd);
  const { fleet } = loaded;
  const progress = progressFor(cmd);
  const ctx = connectRunners(loaded, { progress: (m) => progress.update(m) });
  try {
    return await run(ctx, fleet, g, progress);
  } catch (err) {
    throw explainRunnerError(err);
  } finally {
    progress.done();
    await ctx.close();
  }
}

function printNotes(notes: Note[]): void {
  for (const n of notes) info(`${n.level === "warn" ? paint("warning:", "yellow", process.stderr) : "note:"} ${n.subject}: ${n.message}`);
}

/** Skipped nodes and failed steps end the command with exit 1, after everything else has been done and printed. */
export function failIfIncomplete(report: Pick<ApplyReport, "failures" | "skippedNodes">): void {
  const problems = [
    ...report.skippedNodes.map((s) => `${s.node}: skipped (${s.error})`),
    ...report.failures.filter((f) => !report.skippedNodes.some((s) => s.node === f.subject)).map((f) => `${f.subject}: ${f.message}`),
  ];
  if (problems.length > 0) {
    throw new OperationError(
      `not everything converged:\n  ${problems.join("\n  ")}`,
      "The rest was applied. Fix the above and rerun; reruns are safe.",
    );
  }
}

function printPlan(plan: Plan, g: GlobalOptions, format: string | undefined): void {
  if (g.json) printJson(planToJson(plan));
  else print(format === "markdown" ? renderPlanMarkdown(plan) : renderPlanText(plan));
}

/** `runners plan --observed FILE`: the same planner on what a protected job observed; no token, no SSH (MR plans). */
async function planObserved(file: string, opts: PlanFlags, cmd: Command): Promise<void> {
  const { fleet } = await loadFleet(cmd);
  const observation = await readObservation(file, fleet.cluster);
  const desired = desiredFromFleet(fleet);
  const { observed, notes } = planningObservation(desired, observation.runners);
  const plan = planRunners(desired, observed);
  const withNotes = { ...plan, notes: [...notes, ...plan.notes] };
  if (opts.out) await writePlanFile(opts.out, { desired, observed, plan: withNotes });
  printPlan(withNotes, globals(cmd), opts.format);
  failIfIncomplete({ failures: [], skippedNodes: plan.skippedNodes });
}

export function plan(opts: PlanFlags, cmd: Command): Promise<void> {
  if (opts.observed) return planObserved(opts.observed, opts, cmd);
  return withRunners(cmd, async (ctx, fleet, g) => {
    const made = await planFleet(fleet, ctx.api, ctx.nodes, jobNode(fleet));
    const { plan } = made;
    if (opts.out) await writePlanFile(opts.out, made);
    printPlan(plan, g, opts.format);
    failIfIncomplete({ failures: [], skippedNodes: plan.skippedNodes });
  });
}

/** In a CI job, the node whose runner runs it: its gitlab-runner is not restarted under the job (runner-manager restart.ts). */
function jobNode(fleet: Fleet): { selfNode?: string } {
  const node = nodeRunningThisJob(process.env, fleet.cluster);
  return node ? { selfNode: node } : {};
}

/**
 * Plans (or takes a saved plan), shows it, applies it: `pifleet runners apply` and `pifleet bootstrap` both
 * reconcile the runners through this. `show` gets the plan before anything changes.
 */
export async function reconcileRunners(
  ctx: RunnerContext,
  fleet: Fleet,
  options: { planFile?: string; drainTimeoutMs: number; lockTimeoutMs?: number; progress: Progress; show: (plan: Plan) => void },
): Promise<{ plan: Plan; report: ApplyReport }> {
  // Read, plan and write under the runners lock: a plan made while another run writes would undo its tokens.
  return withRunnersLock(ctx, lockOptions("pifleet runners apply", options.lockTimeoutMs, options.progress), async () => {
    const plan = options.planFile
      ? await readFreshPlan(options.planFile, ctx, jobNode(fleet))
      : (await planFleet(fleet, ctx.api, ctx.nodes, jobNode(fleet))).plan;
    options.show(plan);
    const report = await applyPlan(plan, ctx.api, ctx.nodes, {
      drain: { timeoutMs: options.drainTimeoutMs, pollMs: 5_000 },
      progress: (m) => options.progress.update(m),
    });
    return { plan, report };
  });
}

function lockOptions(command: string, timeoutMs: number | undefined, progress: Progress) {
  return { command, timeoutMs: timeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS, log: (m: string) => progress.log(m) };
}

export function apply(planFile: string | undefined, opts: ApplyFlags, cmd: Command): Promise<void> {
  return withRunners(cmd, async (ctx, fleet, g, progress) => {
    const { plan, report } = await reconcileRunners(ctx, fleet, {
      ...(planFile ? { planFile } : {}),
      drainTimeoutMs: opts.drainTimeout,
      lockTimeoutMs: opts.lockTimeout,
      progress,
      show: (p) => {
        if (!g.json) print(renderPlanText(p));
      },
    });
    if (g.json)
      printJson({ plan: planToJson(plan), applied: report.applied, failures: report.failures, skippedNodes: report.skippedNodes });
    else print(`\nApplied ${report.applied.length} of ${plan.actions.length} steps.`);
    failIfIncomplete(report);
  });
}

export function status(cmd: Command): Promise<void> {
  return withRunners(cmd, async (ctx, _fleet, g) => {
    const s = await fleetRunnerStatus(ctx);
    if (g.json) printJson(s);
    else {
      const rows = s.nodes.flatMap((n) =>
        n.runners.map((r) => [
          n.node,
          n.reachable ? (n.service ?? "?") : paint("unreachable", "red"),
          r.pool,
          r.id === undefined ? "-" : `#${r.id}`,
          r.status ?? "missing",
          r.paused ? `yes (${r.pausedBy})` : "no",
          (r.tags ?? []).join(",") || "-",
          String(r.runningJobs ?? 0),
          `${r.limit}/${n.concurrent}`,
        ]),
      );
      print(renderTable(["node", "service", "pool", "runner", "status", "paused", "tags", "running", "limit/concurrent"], rows));
      for (const st of s.strays)
        print(`stray: runner #${st.id} (${st.key}, ${st.status}) is no longer in fleet.yaml; \`pifleet runners prune\` removes it`);
      printNotes(s.notes);
    }
    const down = s.nodes.filter((n) => !n.reachable);
    const problems = [
      ...(down.length > 0 ? [`unreachable: ${down.map((n) => `${n.node} (${n.error})`).join(", ")}`] : []),
      ...s.nodes.flatMap((n) => (n.serviceError ? [`${n.node}: gitlab-runner service state unknown (${n.serviceError})`] : [])),
    ];
    if (problems.length > 0) throw new OperationError(problems.join("; "));
  });
}

export function drain(node: string, opts: DrainFlags, cmd: Command): Promise<void> {
  return withRunners(cmd, async (ctx, _fleet, g) => {
    const r = await drainNode(ctx, node, { timeoutMs: opts.timeout, pollMs: 5_000, force: Boolean(opts.force) });
    if (g.json) printJson(r);
    else
      print(
        `${node}: drained — ${r.paused.length} runner(s) paused, no running job, gitlab-runner stopped (${Math.round(r.waitedMs / 1000)}s)`,
      );
  });
}

export function undrain(node: string, cmd: Command): Promise<void> {
  return withRunners(cmd, async (ctx, _fleet, g) => {
    const r = await undrainNode(ctx, node);
    if (g.json) printJson(r);
    else {
      print(`${node}: gitlab-runner started, ${r.resumed.length} runner(s) resumed`);
      for (const k of r.keptPaused) print(`  runner #${k.id} (${k.key}) kept paused: ${k.reason}`);
    }
  });
}

export function rotate(nodes: string[], opts: RotateFlags, cmd: Command): Promise<void> {
  return withRunners(cmd, async (ctx, _fleet, g, progress) => {
    const r = await withRunnersLock(ctx, lockOptions("pifleet runners rotate", opts.lockTimeout, progress), () =>
      rotateTokens(ctx, nodes.length > 0 ? nodes : undefined, {
        drain: { timeoutMs: opts.drainTimeout, pollMs: 5_000 },
        progress: (m) => progress.update(m),
      }),
    );
    if (g.json) printJson(r);
    else
      for (const x of r.rotated)
        print(`${x.node}: rotated runner${x.runners.length === 1 ? "" : "s"} ${x.runners.map((id) => `#${id}`).join(", ")}`);
    failIfIncomplete({ failures: r.failures, skippedNodes: [] });
  });
}

export function prune(opts: PruneFlags, cmd: Command): Promise<void> {
  return withRunners(cmd, async (ctx, _fleet, g, progress) => {
    const prune = () =>
      pruneRunners(ctx, {
        stale: opts.stale,
        dryRun: Boolean(opts.dryRun),
        drain: { timeoutMs: opts.drainTimeout, pollMs: 5_000 },
        progress: (m) => progress.update(m),
      });
    // A dry run changes nothing, so it needs no lock (as `runners plan`).
    const r = opts.dryRun
      ? await prune()
      : await withRunnersLock(ctx, lockOptions("pifleet runners prune", opts.lockTimeout, progress), prune);
    if (g.json) printJson({ plan: planToJson(r.plan), applied: r.report?.applied ?? [], failures: r.report?.failures ?? [] });
    else
      print(
        r.plan.actions.length === 0
          ? "Nothing to prune: every pifleet runner is wanted by fleet.yaml and in contact."
          : renderPlanText(r.plan),
      );
    if (r.report) failIfIncomplete(r.report);
  });
}
