/**
 * `npm run bench -w pipelines`: wall time of generate + validate (render, emit,
 * schema + semantic + fleet-aware lint) for the 4-node example fleet and a
 * 100-node fleet. Prints figures; asserts nothing.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseFleet } from "@pifleet/fleet";
import { stringify } from "yaml";
import { syntheticFleet } from "./bench/synthetic-fleet.js";
import { generateProjectPipeline } from "./generate.js";

const RUNS = 20;
const example = parseFleet(readFileSync(new URL("../../examples/fleet.yaml", import.meta.url), "utf8"), "examples/fleet.yaml");

function time(fn: () => void): number {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

const fleets = [
  { label: "4 nodes (examples/fleet.yaml)", fleet: example },
  { label: "100 nodes (synthetic)", fleet: syntheticFleet(example, 100) },
];

console.log(`generate + validate, node ${process.version}, ${RUNS} warm runs each`);
// The first call of the process compiles GitLab's 115 kB schema: that is what one `pifleet pipeline generate` pays.
const cold = time(() => generateProjectPipeline(example, "examples/fleet.yaml"));
console.log(`first call in a fresh process (includes compiling the schema): ${cold.toFixed(1)} ms`);
for (const { label, fleet } of fleets) {
  let jobs = 0;
  let bytes = 0;
  const samples = Array.from({ length: RUNS }, () =>
    time(() => {
      const g = generateProjectPipeline(fleet, "fleet.yaml");
      jobs = g.jobCount;
      bytes = g.text.length;
    }),
  ).sort((a, b) => a - b);
  const median = samples[Math.floor(RUNS / 2)] ?? 0;
  console.log(
    `${label}: ${jobs} jobs, ${(bytes / 1024).toFixed(1)} KiB YAML — median ${median.toFixed(1)} ms, min ${samples[0]?.toFixed(1)} ms, max ${samples[RUNS - 1]?.toFixed(1)} ms`,
  );
}

// The whole command as a person runs it: node start-up, CLI modules, fleet file, generate + validate.
const CLI = new URL("../../cli/bin/pifleet.js", import.meta.url).pathname;
const CLI_RUNS = 5;
const dir = mkdtempSync(join(tmpdir(), "pifleet-bench-"));
try {
  for (const { label, fleet } of fleets) {
    const file = join(dir, `${fleet.nodes.length}.yaml`);
    writeFileSync(file, stringify(fleet));
    const samples = Array.from({ length: CLI_RUNS }, () =>
      time(() => {
        const r = spawnSync(process.execPath, [CLI, "--fleet", file, "pipeline", "generate", "--stdout"], { encoding: "utf8" });
        if (r.status !== 0) throw new Error(`pifleet pipeline generate failed: ${r.stderr}`);
      }),
    ).sort((a, b) => a - b);
    console.log(
      `\`pifleet pipeline generate --stdout\`, ${label}: median ${samples[Math.floor(CLI_RUNS / 2)]?.toFixed(0)} ms wall over ${CLI_RUNS} runs`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
