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
    for (const sub of ["up", "status", "down", "fault", "mirror", "push", "ci"]) {
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

  it("ci and push without a sim exit 3 and say how to start one", () => {
    for (const args of [["ci"], ["ci", "4", "--follow"], ["push"]]) {
      const r = pifleet("sim", ...args, "--dir", join(tmp, "none"));
      expect(r.code, args.join(" ")).toBe(3);
      expect(r.stderr, args.join(" ")).toContain(`error: no simulated fleet in ${join(tmp, "none")}\nStart one with \`pifleet sim up`);
    }
  });

  it("ci rejects a pipeline id that is not a number, and bad durations, with exit 2", () => {
    const id = pifleet("sim", "ci", "latest", "--dir", join(tmp, "none"));
    expect(id.code).toBe(2);
    expect(id.stderr).toContain('pipeline: expected a pipeline id (a number), got "latest"');
    expect(pifleet("sim", "ci", "--follow", "--timeout", "soon").code).toBe(2);
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
