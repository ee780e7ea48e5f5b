import { describe, expect, it } from "vitest";
import type { AnsibleEvent } from "./events.js";
import { ProgressTracker } from "./progress.js";

const result = (host: string, status: "ok" | "changed" | "failed" | "unreachable", ignored = false): AnsibleEvent => ({
  kind: "result",
  host,
  task: "t",
  taskId: "1",
  action: "x",
  status,
  ignored,
  diffs: [],
});

describe("ProgressTracker", () => {
  it("shows the current task and each host's changes, failures and reachability", () => {
    const t = new ProgressTracker();
    expect(t.line()).toBe("starting");
    t.apply({ kind: "play", name: "Prepare every node" });
    t.apply({ kind: "task", name: "docker : Ensure daemon.json", id: "1", handler: false });
    for (const e of [
      result("pi2", "changed"),
      result("pi1", "ok"),
      result("pi1", "failed", true),
      result("pi2", "failed"),
      result("pi3", "unreachable"),
    ])
      t.apply(e);
    expect(t.line()).toBe("docker : Ensure daemon.json | pi1 0~, pi2 1~ 1 failed, pi3 unreachable");
    expect(t.hosts.get("pi1")?.counts.ok).toBe(2);
  });
});
