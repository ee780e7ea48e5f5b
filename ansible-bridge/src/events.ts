/**
 * Typed events from ansible-playbook's pifleet_jsonl stdout callback
 * (ansible/callback_plugins: ansible.posix.jsonl plus an "ignored" flag).
 * One JSON object per line; every other line (a Python traceback, a plugin's
 * print) becomes a "log" event so nothing is lost and nothing crashes the parse.
 */

export type TaskStatus = "ok" | "changed" | "failed" | "skipped" | "unreachable";

/** One file or package change as Ansible's --diff shows it. */
export interface Diff {
  /** What changed, e.g. the file path ("before: /etc/docker/daemon.json"). */
  header?: string;
  before?: string;
  after?: string;
  /** A change described as text rather than before/after (apt's package list). */
  prepared?: string;
}

/** Normalised per-host totals, the same names as `pifleet configure --json`. */
export interface HostRecap {
  ok: number;
  changed: number;
  unreachable: number;
  failed: number;
  skipped: number;
}

export type AnsibleEvent =
  | { kind: "play"; name: string }
  | { kind: "task"; name: string; id: string; handler: boolean }
  | {
      kind: "result";
      host: string;
      task: string;
      taskId: string;
      action: string;
      status: TaskStatus;
      /** Set when Ansible ignored a failure (ignore_errors). */
      ignored: boolean;
      message?: string;
      diffs: Diff[];
    }
  | { kind: "recap"; hosts: Record<string, HostRecap> }
  | { kind: "log"; text: string };

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const text = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const num = (v: unknown): number => (typeof v === "number" ? v : 0);

/** The file a task manages, from its arguments: Ansible's diff headers are often temp files. */
function targetOf(result: Json): string | undefined {
  const invocation = isObject(result.invocation) ? result.invocation : {};
  const args = isObject(invocation.module_args) ? invocation.module_args : {};
  return text(args.dest) ?? text(args.path);
}

function diffsOf(result: Json, target = targetOf(result)): Diff[] {
  const raw = result.diff;
  const entries = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  const out: Diff[] = [];
  for (const d of entries) {
    if (!isObject(d)) continue;
    const diff: Diff = {};
    // before_header names the target file when it exists; after_header is often a temp file or the template source.
    const header = target ?? text(d.before_header) ?? text(d.after_header);
    if (header !== undefined) diff.header = header;
    // Ansible gives before/after as text, or as a dict for state changes (file, link).
    if (d.before !== undefined) diff.before = typeof d.before === "string" ? d.before : `${JSON.stringify(d.before, null, 2)}\n`;
    if (d.after !== undefined) diff.after = typeof d.after === "string" ? d.after : `${JSON.stringify(d.after, null, 2)}\n`;
    if (text(d.prepared) !== undefined) diff.prepared = text(d.prepared);
    if (diff.before !== diff.after || diff.prepared !== undefined) out.push(diff);
  }
  // Loops report each item's diff inside results[].
  if (Array.isArray(result.results))
    for (const item of result.results) if (isObject(item)) out.push(...diffsOf(item, targetOf(item) ?? target));
  return out;
}

function messageOf(result: Json): string | undefined {
  // A loop's own msg is only "One or more items failed": the items say what went wrong.
  if (Array.isArray(result.results)) {
    const items = result.results.filter((r): r is Json => isObject(r) && r.failed === true).map(messageOf);
    if (items.length > 0) return [...new Set(items.filter(Boolean))].join("; ");
  }
  const msg = text(result.msg);
  const stderr = text(result.stderr)?.trim();
  if (msg && stderr && !msg.includes(stderr)) return `${msg}: ${stderr}`;
  return msg ?? (stderr || undefined);
}

function statusOf(event: string, result: Json): TaskStatus {
  if (event === "v2_runner_on_unreachable" || result.unreachable === true) return "unreachable";
  if (event === "v2_runner_on_failed") return "failed";
  if (event === "v2_runner_on_skipped") return "skipped";
  return result.changed === true ? "changed" : "ok";
}

function resultEvents(event: string, line: Json): AnsibleEvent[] {
  const task = isObject(line.task) ? line.task : {};
  const hosts = isObject(line.hosts) ? line.hosts : {};
  return Object.entries(hosts).map(([host, r]) => {
    const result = isObject(r) ? r : {};
    const message = messageOf(result);
    return {
      kind: "result",
      host,
      task: text(task.name) ?? "",
      taskId: text(task.id) ?? "",
      action: text(result.action) ?? "",
      status: statusOf(event, result),
      ignored: event === "v2_runner_on_failed" && result.pifleet_ignored === true,
      ...(message !== undefined ? { message } : {}),
      diffs: diffsOf(result),
    };
  });
}

/** Ansible's stats names → pifleet's normalised recap. */
export function normaliseStats(stats: Json): HostRecap {
  return {
    ok: num(stats.ok),
    changed: num(stats.changed),
    unreachable: num(stats.unreachable),
    failed: num(stats.failures),
    skipped: num(stats.skipped),
  };
}

/** Parses one stdout line into zero or more events (a result line may cover several hosts). */
export function parseLine(raw: string): AnsibleEvent[] {
  const line = raw.trim();
  if (line === "") return [];
  let parsed: unknown;
  try {
    parsed = line.startsWith("{") ? JSON.parse(line) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!isObject(parsed) || typeof parsed._event !== "string") return [{ kind: "log", text: raw }];
  const event = parsed._event;
  switch (event) {
    case "v2_playbook_on_play_start": {
      const play = isObject(parsed.play) ? parsed.play : {};
      return [{ kind: "play", name: text(play.name) ?? "" }];
    }
    case "v2_playbook_on_task_start":
    case "v2_playbook_on_handler_task_start":
    case "v2_runner_on_start": {
      const task = isObject(parsed.task) ? parsed.task : {};
      return [{ kind: "task", name: text(task.name) ?? "", id: text(task.id) ?? "", handler: event.includes("handler") }];
    }
    case "v2_runner_on_ok":
    case "v2_runner_on_failed":
    case "v2_runner_on_skipped":
    case "v2_runner_on_unreachable":
      return resultEvents(event, parsed);
    case "v2_playbook_on_stats": {
      const stats = isObject(parsed.stats) ? parsed.stats : {};
      const hosts = Object.fromEntries(Object.entries(stats).map(([h, s]) => [h, normaliseStats(isObject(s) ? s : {})]));
      return [{ kind: "recap", hosts }];
    }
    default:
      return [];
  }
}
