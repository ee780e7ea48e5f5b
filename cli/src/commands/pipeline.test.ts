import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { fleetPathOf } from "@pifleet/pipelines";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "../test-support/run-cli.js";

// Run from the repository root, as CI runs it.
const root = fileURLToPath(new URL("../../../", import.meta.url));
const invalid = join(root, "pipelines/src/lint/test-cases/invalid");
const tmp = mkdtempSync(join(tmpdir(), "pifleet-cli-pipeline-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const pifleet = (...args: string[]) => runCli(args, { cwd: root, unset: ["PIFLEET_FLEET"] });
// The fleet the committed .gitlab-ci.yml names: examples/fleet.yaml here, the sim's in a `sim push` project.
const committedFleet = fleetPathOf(readFileSync(join(root, ".gitlab-ci.yml"), "utf8")) ?? "examples/fleet.yaml";

describe("pifleet pipeline", () => {
  it("every subcommand has --help with examples", () => {
    for (const sub of ["generate", "check", "lint", "graph"]) {
      const r = pifleet("pipeline", sub, "--help");
      expect(r.code, sub).toBe(0);
      expect(r.stdout, sub).toContain("Examples:");
    }
  });

  it("check passes on the committed .gitlab-ci.yml, reading the fleet the file names", () => {
    const r = pifleet("pipeline", "check");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\.gitlab-ci\.yml: up to date with the generator \(\d+ jobs\)\n$/);
  });

  it("check exits 1 with a diff summary and the command that fixes it when the file was edited", () => {
    const edited = join(tmp, "edited.yml");
    writeFileSync(edited, readFileSync(join(root, ".gitlab-ci.yml"), "utf8").replace("npx tsc -b\n", "npx tsc --build\n"));
    const r = pifleet("pipeline", "check", "--file", edited);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("-    - npx tsc --build\n+    - npx tsc -b\n");
    expect(r.stderr).toMatch(
      /error: .*edited\.yml differs from what the code generates: 1 line\(s\) committed, 1 generated, from line \d+/,
    );
    expect(r.stderr).toContain(
      `Run: npx pifleet pipeline generate --fleet ${fleetPathOf(readFileSync(join(root, ".gitlab-ci.yml"), "utf8"))} --out `,
    );
  });

  it("generate writes once, then leaves an unchanged file alone", () => {
    const out = join(tmp, "gen.yml");
    const first = pifleet("--fleet", committedFleet, "--json", "pipeline", "generate", "--out", out);
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ file: out, changed: true });
    expect(readFileSync(out, "utf8")).toBe(readFileSync(join(root, ".gitlab-ci.yml"), "utf8"));
    const second = pifleet("--fleet", committedFleet, "pipeline", "generate", "--out", out);
    expect(second.stdout).toMatch(/gen\.yml: unchanged \(\d+ jobs\)/);
  });

  it("lint prints FILE:LINE:COL: message and exits 2", () => {
    const r = pifleet("pipeline", "lint", join(invalid, "undefined-need.yml"));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${join(invalid, "undefined-need.yml")}:6:18: test job: undefined need: compile\n`);
  });

  it("lint runs the fleet-aware checks when --fleet is given, and --json reports every error", () => {
    const r = pifleet("--fleet", "examples/fleet.yaml", "--json", "pipeline", "lint", join(invalid, "fleet-unserved-tags.yml"));
    expect(r.code).toBe(2);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ valid: false, fleet: "examples/fleet.yaml", jobs: 1 });
    expect(out.errors).toEqual([expect.objectContaining({ line: 3, col: 9, check: "fleet", path: "build.tags" })]);
  });

  it("graph prints Mermaid for the committed pipeline", () => {
    const r = pifleet("pipeline", "graph");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^graph LR\n/);
    expect(r.stdout).toContain('["deploy"]');
  });
});

describe("bad usage of the nested commands is bad input", () => {
  it("exits 2 on a missing argument or an unknown flag", () => {
    expect(pifleet("pipeline", "lint").code).toBe(2);
    expect(pifleet("pipeline", "generate", "--bogus").code).toBe(2);
    expect(pifleet("mr", "note", "--project", "1").code).toBe(2);
  });
});
