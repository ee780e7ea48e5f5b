import type { AnsibleEvent, Diff, HostRecap, TaskStatus } from "./events.js";

/** A task that changed (or, under --check, would change) one host. */
export interface TaskChange {
  host: string;
  task: string;
  action: string;
  diffs: Diff[];
}

/** A task that failed on a host, or a host that could not be reached. */
export interface TaskFailure {
  host: string;
  task: string;
  status: Extract<TaskStatus, "failed" | "unreachable">;
  message: string;
}

/** A failure the task ignores. The roles ignore errors only under --check (a step that cannot be previewed on a node never configured). */
export interface IgnoredFailure {
  host: string;
  task: string;
  message: string;
}

/** What a playbook run did, built from its events alone (pure). */
export interface RunSummary {
  hosts: Record<string, HostRecap>;
  changes: TaskChange[];
  failures: TaskFailure[];
  ignored: IgnoredFailure[];
}

const emptyRecap = (): HostRecap => ({ ok: 0, changed: 0, unreachable: 0, failed: 0, skipped: 0 });

/**
 * Folds events into a summary. Ansible's own recap (the stats event) wins for
 * the totals; counting results is the fallback when a run died before it.
 * Ignored failures are not failures (Ansible counts them as ok, and so do we).
 */
export function summarise(events: Iterable<AnsibleEvent>): RunSummary {
  const counted: Record<string, HostRecap> = {};
  let reported: Record<string, HostRecap> | undefined;
  const changes: TaskChange[] = [];
  const failures: TaskFailure[] = [];
  const ignored: IgnoredFailure[] = [];
  for (const e of events) {
    if (e.kind === "recap") reported = e.hosts;
    if (e.kind !== "result") continue;
    const recap = counted[e.host] ?? emptyRecap();
    counted[e.host] = recap;
    if (e.status === "failed" && e.ignored) recap.ok++;
    else if (e.status === "changed") {
      recap.ok++;
      recap.changed++;
    } else recap[e.status]++;
    if (e.status === "changed") changes.push({ host: e.host, task: e.task, action: e.action, diffs: e.diffs });
    if (e.status === "failed" && e.ignored) ignored.push({ host: e.host, task: e.task, message: e.message ?? "" });
    if ((e.status === "failed" && !e.ignored) || e.status === "unreachable")
      failures.push({ host: e.host, task: e.task, status: e.status, message: e.message ?? "" });
  }
  const hosts = reported ?? counted;
  return {
    hosts: Object.fromEntries(
      Object.keys(hosts)
        .sort()
        .map((h) => [h, hosts[h] ?? emptyRecap()]),
    ),
    changes,
    failures,
    ignored,
  };
}
