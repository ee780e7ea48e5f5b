import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseLine } from "./events.js";
import { summarise } from "./recap.js";
import { renderMarkdownReport } from "./report.js";

const summary = summarise(
  readFileSync(new URL("./fixtures/check-diff.jsonl", import.meta.url), "utf8")
    .split("\n")
    .flatMap(parseLine),
);

describe("renderMarkdownReport", () => {
  const report = renderMarkdownReport(summary, { check: true, secrets: ["s3cr3t-token"] });

  it("starts with a summary table, one row per host", () => {
    expect(report).toContain("| host | ok | changed | unreachable | failed | skipped |");
    expect(report).toMatch(/\| ghost \| 0 \| 0 \| 1 \| 0 \| \d+ \|/);
    expect(report).toMatch(/\| node2 \| \d+ \| 1 \| 0 \| 1 \| \d+ \|/);
  });

  it("lists per host the tasks that would change, with a unified diff", () => {
    const node1 = report.slice(report.indexOf("### node1"), report.indexOf("### node2"));
    expect(node1).toContain("**Ensure the config file has the new setting.** (ansible.builtin.copy) would change");
    expect(node1).toMatch(
      /```diff\n--- \S+out-node1\.conf\n\+\+\+ \S+out-node1\.conf\n@@ -1,2 \+1,2 @@\n-setting = 1\n\+setting = 2\n token = \[redacted\]\n```/,
    );
  });

  it("never shows a secret", () => {
    expect(report).not.toContain("s3cr3t-token");
  });

  it("reports unreachable hosts and failures under their host", () => {
    expect(report.slice(report.indexOf("### ghost"))).toContain("**unreachable**");
    expect(report.slice(report.indexOf("### node2"))).toContain("**failed**: Fail on node2.: node2 refuses");
  });

  it("lists steps that could not be previewed under --check", () => {
    const gap = renderMarkdownReport(
      {
        hosts: { pi9: { ok: 3, changed: 1, unreachable: 0, failed: 0, skipped: 0 } },
        changes: [],
        failures: [],
        ignored: [{ host: "pi9", task: "docker : Ensure the engine is started", message: "Could not find the requested service docker" }],
      },
      { check: true },
    );
    expect(gap).toContain(
      "### pi9\n\n- _could not be previewed_: docker : Ensure the engine is started: Could not find the requested service docker",
    );
  });

  it("says nothing changed for a quiet host", () => {
    const quiet = renderMarkdownReport(
      { hosts: { pi1: { ok: 5, changed: 0, unreachable: 0, failed: 0, skipped: 1 } }, changes: [], failures: [], ignored: [] },
      { check: false },
    );
    expect(quiet).toContain("### pi1\n\nNothing changed.");
  });
});
