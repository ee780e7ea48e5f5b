import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "../test-support/run-cli.js";

// Only paths that fail before touching Docker (the sim itself is tested in sim/).
const tmp = mkdtempSync(join(tmpdir(), "pifleet-cli-sim-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const pifleet = (...args: string[]) => runCli(args, { cwd: tmp, unset: ["PIFLEET_SIM_DIR"] });

describe("pifleet sim", () => {
  it("every subcommand has --help with examples", () => {
    for (const sub of ["up", "status", "down", "fault"]) {
      const r = pifleet("sim", sub, "--help");
      expect(r.code, sub).toBe(0);
      expect(r.stdout, sub).toContain("Examples:");
    }
  });

  it("status of a dir without a sim exits 2 and says how to start one", () => {
    const r = pifleet("sim", "status", "--dir", join(tmp, "none"));
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `error: no simulated fleet in ${join(tmp, "none")}\nStart one with \`pifleet sim up --dir ${join(tmp, "none")}\` (or pass the --dir it was started with).\n`,
    );
  });

  it("rejects bad options and fault actions with exit 2", () => {
    expect(pifleet("sim", "fault", "pi1", "explode").code).toBe(2);
    expect(pifleet("sim", "up", "--arch", "riscv64").code).toBe(2);
    const nodes = pifleet("sim", "up", "--nodes", "many");
    expect(nodes.code).toBe(2);
    expect(nodes.stderr).toContain('--nodes: expected a whole number, got "many"');
    const memory = pifleet("sim", "up", "--memory", "10m", "--dir", join(tmp, "small"));
    expect(memory.code).toBe(2);
    expect(memory.stderr).toContain("--memory 10m is too small: a node needs at least 256m");
  });
});
