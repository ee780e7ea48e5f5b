import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, relative, resolve } from "node:path";
import { DiagnosticsError, InputError, loadFleetFile, OperationError } from "@pifleet/fleet";
import { writeIfChanged } from "@pifleet/io";
import { compareGenerated, fleetPathOf, generateProjectPipeline, includeReaderFrom, lintText, mermaidGraph } from "@pifleet/pipelines";
import type { Command } from "commander";
import { parse } from "yaml";
import { fleetGiven, globals } from "../context.js";
import { info, print, printJson } from "../output.js";

export interface GenerateFlags {
  out: string;
  stdout?: boolean;
}
export interface CheckFlags {
  file: string;
}
export interface LintFlags {
  fleetChecks: boolean;
  root?: string;
}
export interface GraphFlags {
  file: string;
}

/** The fleet path as the repository names it: relative to the working directory, with forward slashes. */
function repoPath(path: string): string {
  return relative(process.cwd(), resolve(path)).split("\\").join("/");
}

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

async function generateFor(fleetPath: string) {
  const { fleet } = await loadFleetFile(fleetPath);
  return generateProjectPipeline(fleet, repoPath(fleetPath));
}

export async function generate(opts: GenerateFlags, cmd: Command): Promise<void> {
  const g = globals(cmd);
  const generated = await generateFor(g.fleet);
  if (opts.stdout) {
    process.stdout.write(generated.text);
    return;
  }
  const changed = await writeIfChanged(opts.out, generated.text);
  if (g.json) printJson({ file: opts.out, changed, jobs: generated.jobCount, bytes: Buffer.byteLength(generated.text) });
  else print(`${opts.out}: ${changed ? "written" : "unchanged"} (${generated.jobCount} jobs)`);
}

export async function check(opts: CheckFlags, cmd: Command): Promise<void> {
  const g = globals(cmd);
  const committed = await readIfExists(opts.file);
  const fleetPath = fleetGiven(cmd) ? g.fleet : ((committed && fleetPathOf(committed)) ?? g.fleet);
  const generated = await generateFor(fleetPath);
  const drift = compareGenerated(committed, generated.text);
  if (g.json) printJson({ file: opts.file, fleet: fleetPath, ...drift });
  else if (drift.upToDate) print(`${opts.file}: up to date with the generator (${generated.jobCount} jobs)`);
  if (drift.upToDate) return;
  const what =
    committed === undefined
      ? `${opts.file} does not exist`
      : `${opts.file} differs from what the code generates: ${drift.removed} line(s) committed, ${drift.added} generated, from line ${drift.firstDifference?.committedLine}`;
  if (!g.json) info(drift.excerpt.join("\n"));
  throw new OperationError(
    what,
    `Run: npx pifleet pipeline generate --fleet ${repoPath(fleetPath)} --out ${opts.file}, then commit the file.`,
  );
}

export async function lint(file: string, opts: LintFlags, cmd: Command): Promise<void> {
  const g = globals(cmd);
  const text = await readIfExists(file);
  if (text === undefined) throw new InputError(`cannot read ${file}: no such file`, "Pass the path of a .gitlab-ci.yml.");
  const useFleet = opts.fleetChecks && (fleetGiven(cmd) || existsSync(g.fleet));
  const fleet = useFleet ? { fleet: (await loadFleetFile(g.fleet)).fleet, file: repoPath(g.fleet) } : undefined;
  const { diagnostics, jobs } = lintText(text, file, { fleet, readInclude: includeReaderFrom(opts.root ?? dirname(file)) });
  if (g.json) {
    printJson({ valid: diagnostics.length === 0, file, fleet: fleet?.file ?? null, jobs: jobs.size, errors: diagnostics });
    if (diagnostics.length > 0) process.exitCode = 2;
    return;
  }
  if (diagnostics.length > 0) throw new DiagnosticsError(diagnostics, `${diagnostics.length} problem(s) in ${file}.`);
  print(`${file}: valid (${jobs.size} jobs${fleet ? `, checked against ${fleet.file}` : ""})`);
}

export async function graph(opts: GraphFlags, cmd: Command): Promise<void> {
  const text = await readIfExists(opts.file);
  if (text === undefined)
    throw new InputError(`cannot read ${opts.file}: no such file`, "Run `pifleet pipeline generate` first, or pass --file.");
  const { diagnostics, jobs } = lintText(text, opts.file);
  if (diagnostics.length > 0) throw new DiagnosticsError(diagnostics, "Fix the pipeline before drawing it.");
  const mermaid = mermaidGraph(parse(text) as Record<string, unknown>, jobs);
  if (globals(cmd).json) printJson({ mermaid });
  else process.stdout.write(mermaid);
}
