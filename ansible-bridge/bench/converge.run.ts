import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadFleetFile } from "@pifleet/fleet";
import { simDown, simUp } from "@pifleet/sim";
import { it } from "vitest";
import { configure } from "../src/configure.js";
import { closeSshMasters } from "../src/run-dir.js";

// Wall time of `configure` on a fresh sim and of an idempotent re-run, for 4 and 8 nodes.
// Prints figures; asserts nothing about time. NODES=4,8 by default (PIFLEET_BENCH_NODES to change).
const sizes = (process.env.PIFLEET_BENCH_NODES ?? "4,8").split(",").map(Number);
const say = (line: string) => process.stdout.write(`${line}\n`);

it("configure wall time", async () => {
  const rows: string[] = [];
  for (const nodes of sizes) {
    const dir = await mkdtemp(join(tmpdir(), "pf-ans-bench-"));
    const workDir = join(dir, "ansible");
    try {
      const sim = await simUp({ dir: join(dir, "sim"), nodes, gitlab: false });
      const { fleet } = await loadFleetFile(sim.fleetFile);
      const fresh = await configure({ fleet, workDir });
      const again = await configure({ fleet, workDir });
      const changed = Object.values(again.hosts).reduce((n, r) => n + r.changed, 0);
      const failed = [...fresh.failures, ...again.failures].length;
      rows.push(
        `| ${nodes} | ${(fresh.durationMs / 1000).toFixed(1)} s | ${(again.durationMs / 1000).toFixed(1)} s | ${changed} | ${failed} |`,
      );
    } finally {
      await closeSshMasters(workDir);
      await simDown(join(dir, "sim"));
      await rm(dir, { recursive: true, force: true });
    }
  }
  say("\n| nodes | fresh converge | idempotent re-run | changed on re-run | failures |");
  say("| ---: | ---: | ---: | ---: | ---: |");
  for (const r of rows) say(r);
}, 3_600_000);
