import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { runCli } from "./test-support/run-cli.js";

const examples = fileURLToPath(new URL("../../examples/", import.meta.url));

const pifleet = (...args: string[]) => runCli(args, { unset: ["PIFLEET_FLEET", "PIFLEET_JSON"] });

describe("pifleet binary", () => {
  it("prints help listing the commands, exit 0", () => {
    const r = pifleet("--help");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: pifleet/);
    expect(r.stdout).toMatch(/^ {2}validate\b/m);
    expect(r.stdout).toContain("Exit codes: 0 ok, 1 operation failed, 2 bad input or config, 3 environment missing.");
  });

  it("prints its version", () => {
    const r = pifleet("--version");
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it("has --help on every command", () => {
    const commands = [...pifleet("--help").stdout.matchAll(/^ {2}([a-z][a-z-]*)\b/gm)]
      .map((m) => m[1] as string)
      .filter((c) => c !== "help");
    expect(commands.length).toBeGreaterThan(0);
    for (const command of commands) {
      const r = pifleet(command, "--help");
      expect(r.code, command).toBe(0);
      expect(r.stdout, command).toMatch(new RegExp(`^Usage: pifleet ${command}`));
    }
  });

  it.each([
    [["nosuch", "--help"], "unknown command 'nosuch'"],
    [["nosuch"], "unknown command 'nosuch'"],
    [["runners", "nosuch", "--help"], "unknown command 'nosuch'"],
    [["runners", "plann", "-h"], "unknown command 'plann'\n(Did you mean plan?)"],
    [["valdate", "--help"], "unknown command 'valdate'\n(Did you mean validate?)"],
  ])("rejects the unknown command in %j with exit 2, even with --help", (args, message) => {
    const r = pifleet(...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stdout).toBe("");
  });

  it("still shows a command's help through `help`", () => {
    const r = pifleet("help", "runners");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: pifleet runners/);
  });

  it.each([
    ["runners", "drain", "pi1", "--timeout", "soon"],
    ["runners", "apply", "--drain-timeout", "5x"],
    ["app", "deploy", "--timeout", "1.5m"],
  ])("rejects a bad duration before doing anything: %j exits 2 naming the flag", (...args) => {
    const r = pifleet(...args, "--fleet", `${examples}fleet.yaml`);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/option '--(drain-)?timeout <duration>' argument '.*' is invalid\. Write a duration like 90s/);
  });

  it("takes configure's old --report markdown, with a warning to use --format", () => {
    const missing = "/nonexistent/fleet.yaml";
    const old = pifleet("configure", "--report", "markdown", "--fleet", missing);
    expect(old.stderr).toContain("warning: --report is deprecated: use --format markdown");
    const now = pifleet("configure", "--format", "markdown", "--fleet", missing);
    expect(now.stderr).not.toContain("deprecated");
    // Both get as far as reading the fleet file.
    for (const r of [old, now]) {
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`cannot read fleet file ${missing}`);
    }
  });

  it("rejects an unknown option with exit 2", () => {
    const r = pifleet("validate", "--no-such-flag");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown option '--no-such-flag'");
  });

  it("validates the reference fleet with exit 0, a node table and each node's memory budget", () => {
    const r = pifleet("validate", "--fleet", `${examples}fleet.yaml`);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/valid — cluster picluster, 4 nodes, 2 runner pools/);
    expect(r.stdout).toMatch(/^pi4 +192\.168\.1\.14 +arm64 +swarm-worker,runner,app,loadbalancer +1 +arm64,docker,pi$/m);
    expect(r.stdout).toMatch(/^pi1 +OS +384 +runners\.osReserveMiB/m);
    expect(r.stdout).toMatch(/^ +redis-server +112 +redis role/m);
    expect(r.stdout).toMatch(/^ +redis-sentinel +16 +redis role/m);
    expect(r.stdout).toMatch(/^ +jobs: 1 × arm64-docker +1024 +1 at once/m);
    expect(r.stdout).toMatch(/^ +total +2032 +of 2048 MiB, 16 free$/m);
  });

  it("prints one JSON object on stdout with --json", () => {
    const r = pifleet("validate", "--json", "--fleet", `${examples}fleet.yaml`);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ valid: true, cluster: "picluster", errors: [] });
    expect(out.nodes[1]).toMatchObject({
      name: "pi2",
      address: "192.168.1.12",
      arch: "arm64",
      roles: ["swarm-manager", "runner", "app", "redis"],
      concurrency: 1,
      tags: ["arm64", "deploy", "docker", "pi", "pifleet"],
    });
    expect(out.nodes[1].memory).toMatchObject({
      memoryMiB: 2048,
      fixedMiB: 1008,
      leftMiB: 1040,
      jobSlots: 1,
      jobs: [{ pool: "arm64-docker", jobMemoryMiB: 1024, jobs: 1, mib: 1024 }],
      totalMiB: 2032,
      freeMiB: 16,
    });
    expect(out.nodes[1].memory.fixed[0]).toEqual({ item: "OS", mib: 384, why: expect.stringContaining("runners.osReserveMiB") });
  });

  it.each(readdirSync(`${examples}invalid`).filter((f) => f.endsWith(".yaml")))("exits 2 with FILE:LINE:COL for invalid/%s", (file) => {
    const path = `${examples}invalid/${file}`;
    const r = pifleet("validate", "--fleet", path);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}:\\d+:\\d+: \\S`, "m"));
  });

  it("reports errors as JSON with --json, still exit 2", () => {
    const r = pifleet("validate", "--json", "--fleet", `${examples}invalid/several-errors.yaml`);
    expect(r.code).toBe(2);
    const out = JSON.parse(r.stdout);
    expect(out.valid).toBe(false);
    expect(out.errors.map((e: { line: number; col: number; path: string }) => [e.line, e.col, e.path])).toEqual([
      [42, 14, "nodes[1].address"],
      [49, 11, "nodes[2].name"],
      [62, 5, "nodes[3].colour"],
    ]);
  });

  it("exits 2 with a hint when the fleet file does not exist", () => {
    const r = pifleet("validate", "--fleet", "/nonexistent/fleet.yaml");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("cannot read fleet file /nonexistent/fleet.yaml: no such file");
    expect(r.stderr).toContain("Pass --fleet PATH");
  });
});
