/**
 * `npm run bench -w cli`: wall time of starting pifleet, side by side with a bare `node -e 0`, in
 * one run. The cases are interleaved round by round (each round in a rotated order), so a busy
 * machine slows them alike. Prints median, p90 and min per case; asserts nothing.
 *
 *   npm run bench -w cli -- --runs 50
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const repo = fileURLToPath(new URL("../../../", import.meta.url));
const bin = fileURLToPath(new URL("../../bin/pifleet.js", import.meta.url));

const cases: { label: string; args: string[] }[] = [
  { label: "node -e 0", args: ["-e", "0"] },
  { label: "pifleet --version", args: [bin, "--version"] },
  { label: "pifleet --help", args: [bin, "--help"] },
  { label: "pifleet validate --fleet examples/fleet.yaml", args: [bin, "validate", "--fleet", "examples/fleet.yaml"] },
];

function timeOnce(args: string[]): number {
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { cwd: repo, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  // A failing command would be timed on its error path: stop rather than print a misleading figure.
  if (r.status !== 0) throw new Error(`node ${args.join(" ")} exited ${r.status ?? r.signal}:\n${r.stderr}`);
  return ms;
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number;
}

const { values } = parseArgs({ options: { runs: { type: "string", default: "20" } } });
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) {
  process.stderr.write(`--runs: expected a whole number ≥ 1, got "${values.runs}"\n`);
  process.exit(2);
}

for (const c of cases) timeOnce(c.args); // warm the file-system cache; not counted
const times = cases.map(() => [] as number[]);
for (let round = 0; round < runs; round++) {
  for (let k = 0; k < cases.length; k++) {
    const i = (round + k) % cases.length;
    times[i]?.push(timeOnce(cases[i]?.args ?? []));
  }
}

const width = Math.max(...cases.map((c) => c.label.length));
const ms = (n: number) => `${n.toFixed(0)} ms`.padStart(8);
process.stdout.write(`node ${process.version}, ${runs} runs per command, interleaved\n\n`);
process.stdout.write(`${"command".padEnd(width)}  ${"median".padStart(8)}  ${"p90".padStart(8)}  ${"min".padStart(8)}\n`);
cases.forEach((c, i) => {
  const sorted = [...(times[i] ?? [])].sort((a, b) => a - b);
  process.stdout.write(
    `${c.label.padEnd(width)}  ${ms(quantile(sorted, 0.5))}  ${ms(quantile(sorted, 0.9))}  ${ms(sorted[0] as number)}\n`,
  );
});
