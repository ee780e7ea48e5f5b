import { type Fleet, OperationError } from "@pifleet/fleet";
import {
  type ApplyReport,
  applyPlan,
  connectRunners,
  drainNode,
  explainRunnerError,
  fleetRunnerStatus,
  type Note,
  type Plan,
  parseDuration,
  planFleet,
  planToJson,
  prune,
  type RunnerContext,
  readPlanFile,
  renderPlanMarkdown,
  renderPlanText,
  rotateTokens,
  undrainNode,
  writePlanFile,
} from "@pifleet/runner-manager";
import { type Command, Option } from "commander";
import { type GlobalOptions, globals, loadFleet, progressFor } from "../context.js";
import { info, paint, print, printJson, renderTable } from "../output.js";
import type { Progress } from "../progress.js";

type Run<T> = (ctx: RunnerContext, fleet: Fleet, g: GlobalOptions, progress: Progress) => Promise<T>;

/** Loads the fleet, connects to GitLab and the nodes, runs, and always closes SSH; GitLab errors become exit-1 errors with a hint. */
async function withRunners<T>(cmd: Command, run: Run<T>): Promise<T> {
  const g = globals(cmd);
  const { fleet } = await loadFleet(cmd);
  const progress = progressFor(cmd);
  const ctx = connectRunners(fleet, { progress: (m) => progress.update(m) });
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
function failIfIncomplete(report: Pick<ApplyReport, "failures" | "skippedNodes">): void {
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

const drainTimeout = () =>
  new Option("--drain-timeout <duration>", "how long to wait for running jobs of a runner being removed").default("10m");

function printPlan(plan: Plan, g: GlobalOptions, format: string | undefined): void {
  if (g.json) printJson(planToJson(plan));
  else print(format === "markdown" ? renderPlanMarkdown(plan) : renderPlanText(plan));
}

export function registerRunners(program: Command): void {
  const runners = program
    .command("runners")
    .description("keep one GitLab runner per Pi and pool: plan, apply, status, drain, undrain, rotate, prune")
    .addHelpText(
      "after",
      `
Runners are created through GitLab's API (POST /user/runners, authentication tokens only) and written into
/etc/gitlab-runner/config.toml on each Pi over SSH. pifleet recognises its runners by their description
("pifleet CLUSTER/NODE/POOL [TAGS]") and a marker in their maintenance note; runners without the marker are never touched.
A pause made in the GitLab UI is kept. The API token comes from the variable named by gitlab.tokenEnv
(default GITLAB_TOKEN) and needs the scopes create_runner + manage_runner (or api). See docs/runners.md.

Examples:
  $ pifleet runners plan                      what would change
  $ pifleet runners plan --format markdown     the same, for a merge-request note
  $ pifleet runners apply                      make it so
  $ pifleet runners drain pi3 && sudo reboot   take pi3 out gracefully`,
    );

  runners
    .command("plan")
    .description("show what apply would change (creates, tag updates, config writes, pauses, drains, deletes); changes nothing")
    .addOption(
      new Option("--format <format>", "text (like terraform plan) or markdown (for an MR note)")
        .choices(["text", "markdown"])
        .default("text"),
    )
    .option("--out <file>", "also save the plan as JSON, to run later with `runners apply FILE`")
    .addHelpText(
      "after",
      `
Exit codes: 0 plan made, 1 a node was unreachable (its changes are left out), 2 bad fleet file, 3 token missing.
With --json, stdout is {"version":1,"cluster","actions":[...],"notes":[...],"skippedNodes":[...],"summary":{...}}.

Examples:
  $ pifleet runners plan --out runners-plan.json
  $ pifleet runners plan --json | jq '.summary'`,
    )
    .action(async (opts: { format: string; out?: string }, cmd: Command) =>
      withRunners(cmd, async (ctx, fleet, g) => {
        const { plan } = await planFleet(fleet, ctx.api, ctx.nodes);
        if (opts.out) await writePlanFile(opts.out, plan);
        printPlan(plan, g, opts.format);
        failIfIncomplete({ failures: [], skippedNodes: plan.skippedNodes });
      }),
    );

  runners
    .command("apply [planFile]")
    .description("reconcile GitLab and the nodes with fleet.yaml (or run a plan saved with `plan --out`)")
    .addOption(drainTimeout())
    .addHelpText(
      "after",
      `
Without a plan file, apply plans first and prints the plan. Every step is idempotent: after a crash or a
failure, rerun it; a runner created but never written to its node is adopted (its token is reset and written).
Runners being removed are paused, then deleted once they run no job (or left paused after --drain-timeout).
Exit codes: 0 converged, 1 a node was unreachable or a step failed (the rest was applied), 2 bad input, 3 token missing.

Examples:
  $ pifleet runners apply
  $ pifleet runners plan --out p.json && pifleet runners apply p.json`,
    )
    .action(async (planFile: string | undefined, opts: { drainTimeout: string }, cmd: Command) =>
      withRunners(cmd, async (ctx, fleet, g, progress) => {
        const timeoutMs = parseDuration(opts.drainTimeout, "--drain-timeout");
        const plan = planFile ? await readPlanFile(planFile, fleet.cluster) : (await planFleet(fleet, ctx.api, ctx.nodes)).plan;
        if (!g.json) print(renderPlanText(plan));
        const report = await applyPlan(plan, ctx.api, ctx.nodes, {
          drain: { timeoutMs, pollMs: 5_000 },
          progress: (m) => progress.update(m),
        });
        if (g.json)
          printJson({ plan: planToJson(plan), applied: report.applied, failures: report.failures, skippedNodes: report.skippedNodes });
        else print(`\nApplied ${report.applied.length} of ${plan.actions.length} steps.`);
        failIfIncomplete(report);
      }),
    );

  runners
    .command("status")
    .description("per node: reachability, gitlab-runner service, and each runner's id, status, pause, tags, running jobs, limit")
    .addHelpText(
      "after",
      `
Warns when a tag is served by one node only, or by no active runner right now.
Exit codes: 0 shown, 1 a node was unreachable (still shown), 3 token missing.
With --json, stdout is {"cluster","nodes":[{"node","reachable","service","concurrent","runners":[...]}],"strays","notes"}.

Example:
  $ pifleet runners status`,
    )
    .action(async (_opts, cmd: Command) =>
      withRunners(cmd, async (ctx, _fleet, g) => {
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
        if (down.length > 0) throw new OperationError(`unreachable: ${down.map((n) => `${n.node} (${n.error})`).join(", ")}`);
      }),
    );

  runners
    .command("drain <node>")
    .description("pause the node's runners, wait until they run no job, then stop gitlab-runner with SIGQUIT")
    .option("--timeout <duration>", "how long to wait for running jobs", "30m")
    .option("--force", "drain even if a tag would be left with no active runner")
    .addHelpText(
      "after",
      `
Refuses (exit 1) when the node carries the last active runner of a tag, unless --force.
On timeout the runners stay paused, gitlab-runner keeps running its jobs, and the exit code is 1.

Examples:
  $ pifleet runners drain pi3 --timeout 1h
  $ pifleet runners undrain pi3`,
    )
    .action(async (node: string, opts: { timeout: string; force?: boolean }, cmd: Command) =>
      withRunners(cmd, async (ctx, _fleet, g) => {
        const r = await drainNode(ctx, node, {
          timeoutMs: parseDuration(opts.timeout, "--timeout"),
          pollMs: 5_000,
          force: Boolean(opts.force),
        });
        if (g.json) printJson(r);
        else
          print(
            `${node}: drained — ${r.paused.length} runner(s) paused, no running job, gitlab-runner stopped (${Math.round(r.waitedMs / 1000)}s)`,
          );
      }),
    );

  runners
    .command("undrain <node>")
    .description("start gitlab-runner on the node and resume the runners pifleet paused (a pause made in the UI stays)")
    .addHelpText("after", "\nExample:\n  $ pifleet runners undrain pi3")
    .action(async (node: string, _opts, cmd: Command) =>
      withRunners(cmd, async (ctx, _fleet, g) => {
        const r = await undrainNode(ctx, node);
        if (g.json) printJson(r);
        else {
          print(`${node}: gitlab-runner started, ${r.resumed.length} runner(s) resumed`);
          for (const k of r.keptPaused) print(`  runner #${k.id} (${k.key}) kept paused: ${k.reason}`);
        }
      }),
    );

  runners
    .command("rotate [nodes...]")
    .description("reset the runners' authentication tokens through the API and write the new ones to the nodes")
    .addOption(drainTimeout().hideHelp())
    .addHelpText(
      "after",
      `
Without nodes, every runner node. The node records the rotation first, so if pifleet stops between the reset
and the write, the next \`runners apply\` finishes it. Tokens are never printed.

Examples:
  $ pifleet runners rotate
  $ pifleet runners rotate pi2 pi3`,
    )
    .action(async (nodes: string[], opts: { drainTimeout: string }, cmd: Command) =>
      withRunners(cmd, async (ctx, _fleet, g, progress) => {
        const r = await rotateTokens(ctx, nodes.length > 0 ? nodes : undefined, {
          drain: { timeoutMs: parseDuration(opts.drainTimeout), pollMs: 5_000 },
          progress: (m) => progress.update(m),
        });
        if (g.json) printJson(r);
        else
          for (const x of r.rotated)
            print(`${x.node}: rotated runner${x.runners.length === 1 ? "" : "s"} ${x.runners.map((id) => `#${id}`).join(", ")}`);
        failIfIncomplete({ failures: r.failures, skippedNodes: [] });
      }),
    );

  runners
    .command("prune")
    .description("delete pifleet's runners whose node or pool left fleet.yaml, and stale ones (no contact for 7 days)")
    .option("--no-stale", "keep stale runners; remove only those fleet.yaml no longer wants")
    .option("--dry-run", "show what would be deleted")
    .addOption(drainTimeout())
    .addHelpText(
      "after",
      `
Only runners with pifleet's marker in their maintenance note are deleted; each is paused and drained first.

Examples:
  $ pifleet runners prune --dry-run
  $ pifleet runners prune --no-stale`,
    )
    .action(async (opts: { stale: boolean; dryRun?: boolean; drainTimeout: string }, cmd: Command) =>
      withRunners(cmd, async (ctx, _fleet, g, progress) => {
        const r = await prune(ctx, {
          stale: opts.stale,
          dryRun: Boolean(opts.dryRun),
          drain: { timeoutMs: parseDuration(opts.drainTimeout, "--drain-timeout"), pollMs: 5_000 },
          progress: (m) => progress.update(m),
        });
        if (g.json) printJson({ plan: planToJson(r.plan), applied: r.report?.applied ?? [], failures: r.report?.failures ?? [] });
        else
          print(
            r.plan.actions.length === 0
              ? "Nothing to prune: every pifleet runner is wanted by fleet.yaml and in contact."
              : renderPlanText(r.plan),
          );
        if (r.report) failIfIncomplete(r.report);
      }),
    );
}
