import type { AnsibleEvent, TaskStatus } from "./events.js";

/** Live per-host state for a progress display: the task each host is on and its counts. */
export interface HostProgress {
  task: string;
  counts: Record<TaskStatus, number>;
}

/**
 * Folds events into per-host progress (pure; the CLI redraws a line from it).
 * A host appears once a result for it arrives.
 */
export class ProgressTracker {
  readonly hosts = new Map<string, HostProgress>();
  task = "";
  play = "";

  apply(event: AnsibleEvent): void {
    if (event.kind === "play") this.play = event.name;
    if (event.kind === "task") this.task = event.name;
    if (event.kind !== "result") return;
    const host = this.hosts.get(event.host) ?? { task: "", counts: { ok: 0, changed: 0, failed: 0, skipped: 0, unreachable: 0 } };
    host.task = event.task;
    host.counts[event.status === "failed" && event.ignored ? "ok" : event.status]++;
    this.hosts.set(event.host, host);
  }

  /** One line: the current task, then each host's changed/failed counts. */
  line(): string {
    const hosts = [...this.hosts.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, h]) => {
        if (h.counts.unreachable > 0) return `${name} unreachable`;
        const bad = h.counts.failed > 0 ? ` ${h.counts.failed} failed` : "";
        return `${name} ${h.counts.changed}~${bad}`;
      });
    return `${this.task || this.play || "starting"}${hosts.length ? ` | ${hosts.join(", ")}` : ""}`;
  }
}
