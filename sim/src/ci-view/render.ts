import { failedJobs, isFinished, type JobView, type PipelineView, summarize } from "./model.js";

/** Text for people: the pipeline as a table, the lines a follower prints as jobs move, and the in-place redraw. Pure. */

export interface RenderOptions {
  /** ANSI colours for statuses (only on a terminal, never with NO_COLOR: the caller decides). */
  colour: boolean;
}

const ANSI = { green: 32, red: 31, yellow: 33, blue: 34, dim: 2 } as const;
const STATUS_COLOUR: Record<string, keyof typeof ANSI> = {
  success: "green",
  failed: "red",
  canceled: "red",
  running: "blue",
  pending: "yellow",
  created: "dim",
  skipped: "dim",
  manual: "dim",
};

function paint(text: string, status: string, options: RenderOptions): string {
  const colour = STATUS_COLOUR[status];
  return options.colour && colour ? `\u001b[${ANSI[colour]}m${text}\u001b[0m` : text;
}

const ESCAPE = /\u001b\[[0-9;]*[A-Za-z]/y;
const visibleLength = (s: string) => s.replace(/\u001b\[[0-9;]*[A-Za-z]/g, "").length;

/** 65 → "1m 05s", 7 → "7s", 3725 → "1h 02m", null → "". */
export function formatDuration(seconds: number | null): string {
  if (seconds === null) return "";
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** The runner as a column: its id and the description up to its settings bracket. */
export function runnerLabel(job: JobView): string {
  if (!job.runner) return "";
  const name = job.runner.description.replace(/\s*\[[^\]]*\]\s*$/, "");
  return name ? `#${job.runner.id} ${name}` : `#${job.runner.id}`;
}

/** The status with what matters about it: why it failed, that failing was allowed, that it is stuck. */
export function statusText(job: JobView): string {
  if (job.status === "failed" && job.allowFailure) return "failed (allowed)";
  if (job.status === "failed" && job.failureReason) return `failed: ${job.failureReason}`;
  if (job.stuckReason) return "pending, stuck";
  return job.status;
}

/** "9 jobs: 7 success, 1 running, 1 created · per node: pi1 4, pi2 4" */
export function summaryLine(view: PipelineView): string {
  const { byStatus, byNode } = summarize(view);
  const statuses = Object.entries(byStatus).map(([s, n]) => `${n} ${s}`);
  const nodes = Object.entries(byNode)
    .sort(([a], [b]) => a.localeCompare(b, undefined, { numeric: true }))
    .map(([node, n]) => `${node} ${n}`);
  const jobs = `${view.jobs.length} job${view.jobs.length === 1 ? "" : "s"}`;
  return `${jobs}${statuses.length ? `: ${statuses.join(", ")}` : ""}${nodes.length ? ` · per node: ${nodes.join(", ")}` : ""}`;
}

/** The pipeline for people, in three parts; the CLI draws `table` with its own table renderer (aligned by visible width). */
export interface PipelineReport {
  /** Which pipeline, its status and duration, its URL. */
  header: string[];
  /** One row per job in stage order; null when it has no jobs. */
  table: { headers: string[]; rows: string[][] } | null;
  /** The summary (jobs per status and per node), then why anything is stuck or failed. */
  footer: string[];
}

export function renderPipeline(view: PipelineView, options: RenderOptions): PipelineReport {
  const duration = formatDuration(view.duration);
  const header = [
    `pipeline #${view.id}  ${view.ref} @ ${view.sha.slice(0, 8)}  (${view.source})  ${paint(view.status, view.status, options)}${duration ? `  ${duration}` : ""}`,
    view.webUrl,
  ];
  if (view.yamlErrors) header.push(`configuration error: ${view.yamlErrors}`);
  const rows = view.jobs.map((j) => [
    j.stage,
    j.name,
    j.node ?? "",
    runnerLabel(j),
    paint(statusText(j), j.status, options),
    formatDuration(j.duration),
  ]);
  const footer = [summaryLine(view)];
  const reasons = new Map<string, string[]>();
  for (const j of view.jobs) if (j.stuckReason) reasons.set(j.stuckReason, [...(reasons.get(j.stuckReason) ?? []), j.name]);
  for (const [reason, jobs] of reasons) footer.push(`stuck: ${jobs.join(", ")}: ${reason}`);
  const failed = failedJobs(view);
  if (failed.length > 0) footer.push(`failed: ${failed.map((j) => j.name).join(", ")}`);
  return {
    header,
    table: rows.length > 0 ? { headers: ["stage", "job", "node", "runner", "status", "duration"], rows } : null,
    footer,
  };
}

export type Change = { kind: "job"; job: JobView; from: string | null } | { kind: "pipeline"; view: PipelineView; from: string | null };

/** What moved between two reads: each job whose status changed (or that appeared), then the pipeline's own status. */
export function changesBetween(previous: PipelineView | undefined, next: PipelineView): Change[] {
  const before = new Map((previous?.jobs ?? []).map((j) => [j.id, j]));
  const changes: Change[] = [];
  for (const job of next.jobs) {
    const was = before.get(job.id);
    if (!was || was.status !== job.status || was.stuckReason !== job.stuckReason) {
      changes.push({ kind: "job", job, from: was?.status ?? null });
    }
  }
  if (previous?.status !== next.status) changes.push({ kind: "pipeline", view: next, from: previous?.status ?? null });
  return changes;
}

/** One log line per change: "12:00:03  deploy  deploy  success  on pi1 (runner #7)  41s". */
export function renderChange(change: Change, at: string, options: RenderOptions): string {
  if (change.kind === "pipeline") {
    const v = change.view;
    const took = isFinished(v.status) ? formatDuration(v.duration) : "";
    return [at, `pipeline #${v.id}`, paint(v.status, v.status, options), took].filter(Boolean).join("  ");
  }
  const j = change.job;
  const where = j.node ? `on ${j.node}${j.runner ? ` (runner #${j.runner.id})` : ""}` : j.runner ? `runner #${j.runner.id}` : "";
  return [at, j.stage, j.name, paint(statusText(j), j.status, options), where, isFinished(j.status) ? formatDuration(j.duration) : ""]
    .filter(Boolean)
    .join("  ");
}

/** Cuts each line to the terminal's width (escape sequences kept whole), so a redraw knows how many rows it wrote. */
export function fitWidth(lines: readonly string[], columns: number): string[] {
  return lines.map((line) => {
    if (visibleLength(line) <= columns) return line;
    let out = "";
    let shown = 0;
    for (let i = 0; i < line.length && shown < columns - 1; ) {
      ESCAPE.lastIndex = i;
      const esc = ESCAPE.exec(line);
      if (esc) {
        out += esc[0];
        i += esc[0].length;
      } else {
        out += line[i];
        i++;
        shown++;
      }
    }
    return `${out}…${line.includes("\u001b[") ? "\u001b[0m" : ""}`;
  });
}

/** Replaces the previous drawing (`previousRows` rows, cursor below it) with `lines`. */
export function redraw(previousRows: number, lines: readonly string[]): string {
  const up = previousRows > 0 ? `\u001b[${previousRows}F\u001b[J` : "";
  return `${up}${lines.join("\n")}\n`;
}
