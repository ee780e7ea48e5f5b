import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { type AnsibleEvent, parseLine } from "./events.js";
import { summarise } from "./recap.js";

const fixture = (name: string): AnsibleEvent[] =>
  readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8")
    .split("\n")
    .flatMap(parseLine);

describe("parseLine", () => {
  it("turns a recorded converge into plays, tasks, results and a recap", () => {
    const events = fixture("converge.jsonl");
    expect(events.filter((e) => e.kind === "play").map((e) => e.kind === "play" && e.name)).toEqual(["Fixture play"]);
    expect(events.filter((e) => e.kind === "task")).toHaveLength(4);
    const recap = events.find((e) => e.kind === "recap");
    expect(recap).toEqual({
      kind: "recap",
      hosts: {
        ghost: { ok: 0, changed: 0, unreachable: 1, failed: 0, skipped: 2 },
        node1: { ok: 2, changed: 1, unreachable: 0, failed: 0, skipped: 2 },
        node2: { ok: 3, changed: 1, unreachable: 0, failed: 1, skipped: 0 },
      },
    });
  });

  it("marks ignored failures, unreachable hosts and real failures apart", () => {
    const results = fixture("converge.jsonl").flatMap((e) => (e.kind === "result" ? [e] : []));
    const ignored = results.filter((r) => r.status === "failed" && r.ignored).map((r) => r.host);
    const failed = results.filter((r) => r.status === "failed" && !r.ignored);
    expect(ignored.sort()).toEqual(["node1", "node2"]);
    expect(failed.map((r) => [r.host, r.task, r.message])).toEqual([["node2", "Fail on node2.", "node2 refuses"]]);
    const unreachable = results.find((r) => r.status === "unreachable");
    expect(unreachable?.host).toBe("ghost");
    expect(unreachable?.message).toContain("Connection refused");
  });

  it("keeps the before/after of a --diff with the target file as header", () => {
    const changed = fixture("check-diff.jsonl").flatMap((e) => (e.kind === "result" && e.status === "changed" ? [e] : []));
    expect(changed.map((c) => c.host).sort()).toEqual(["node1", "node2"]);
    expect(changed[0]?.diffs).toEqual([
      {
        header: expect.stringMatching(/out-node\d\.conf$/),
        before: "setting = 1\ntoken = s3cr3t-token\n",
        after: "setting = 2\ntoken = s3cr3t-token\n",
      },
    ]);
  });

  it("passes anything that is not a callback event through as a log line", () => {
    expect(parseLine("Traceback (most recent call last):")).toEqual([{ kind: "log", text: "Traceback (most recent call last):" }]);
    expect(parseLine('{"not": "an event"}')).toEqual([{ kind: "log", text: '{"not": "an event"}' }]);
    expect(parseLine("{broken json")).toEqual([{ kind: "log", text: "{broken json" }]);
    expect(parseLine("   ")).toEqual([]);
  });

  it("explains a failed loop by its failed items", () => {
    const line = JSON.stringify({
      _event: "v2_runner_on_failed",
      task: { name: "Remove.", id: "t2" },
      hosts: {
        pi1: {
          action: "x",
          msg: "One or more items failed",
          results: [
            { failed: false, msg: "fine" },
            { failed: true, msg: "node is up", stderr: "" },
          ],
        },
      },
    });
    expect(parseLine(line)[0]).toMatchObject({ status: "failed", message: "node is up" });
  });

  it("shows state changes (a link's target) as JSON text, and loop items' diffs", () => {
    const line = JSON.stringify({
      _event: "v2_runner_on_ok",
      task: { name: "Ensure links.", id: "t1" },
      hosts: {
        pi1: {
          action: "ansible.builtin.file",
          changed: true,
          results: [
            {
              diff: {
                before: { src: "/usr/share/zoneinfo/Etc/UTC" },
                after: { src: "/usr/share/zoneinfo/Europe/Berlin" },
                before_header: "/etc/localtime",
              },
            },
          ],
        },
      },
    });
    const [event] = parseLine(line);
    expect(event).toMatchObject({ kind: "result", host: "pi1", status: "changed" });
    expect(event?.kind === "result" && event.diffs).toEqual([
      {
        header: "/etc/localtime",
        before: '{\n  "src": "/usr/share/zoneinfo/Etc/UTC"\n}\n',
        after: '{\n  "src": "/usr/share/zoneinfo/Europe/Berlin"\n}\n',
      },
    ]);
  });
});

describe("summarise", () => {
  it("uses Ansible's recap for totals and lists changes and real failures per host", () => {
    const s = summarise(fixture("converge.jsonl"));
    expect(Object.keys(s.hosts)).toEqual(["ghost", "node1", "node2"]);
    expect(s.changes.map((c) => `${c.host}:${c.task}`).sort()).toEqual([
      "node1:Ensure the config file has the new setting.",
      "node2:Ensure the config file has the new setting.",
    ]);
    expect(s.failures.map((f) => `${f.host}:${f.status}`)).toEqual(["ghost:unreachable", "node2:failed"]);
    expect(s.ignored.map((f) => `${f.host}:${f.task}`).sort()).toEqual([
      "node1:Try something that fails but is ignored.",
      "node2:Try something that fails but is ignored.",
    ]);
  });

  it("counts results itself when the run died before Ansible's recap", () => {
    const events = fixture("converge.jsonl").filter((e) => e.kind !== "recap");
    expect(summarise(events).hosts).toEqual(summarise(fixture("converge.jsonl")).hosts);
  });
});
