import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, relative, resolve } from "node:path";
import { DiagnosticsError, InputError, loadFleetFile, OperationError } from "@pifleet/fleet";
import {
  compareGenerated,
  fleetPathOf,
  generateProjectPipeline,
  includeReaderFrom,
  lintText,
  mermaidGraph,
  writeGenerated,
} from "@pifleet/pipelines";
import type { Command } from "commander";
import { parse } from "yaml";
import { globals } from "../context.js";
import { info, print, printJson } from "../output.js";

/** The fleet path as the repository names it: relative to the working directory, with forward slashes. */
function repoPath(path: string): string {
  return relative(process.cwd(), resolve(path)).split("\\").join("/");
}

/** Whether --fleet / PIFLEET_FLEET was given, rather than left at its default. */
function fleetGiven(cmd: Command): boolean {
  let root = cmd;
  while (root.parent) root = root.parent;
  return root.getOptionValueSource("fleet") !== "default";
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

function registerGenerate(pipeline: Command): void {
  pipeline
    .command("generate")
    .description("write .gitlab-ci.yml from pipelines/src/project/pipeline.ts and the fleet, after validating it")
    .option("-o, --out <file>", "where to write", ".gitlab-ci.yml")
    .option("--stdout", "print the YAML instead of writing it")
    .addHelpText(
      "after",
      `
The file is validated (GitLab's schema, GitLab's semantic checks, the fleet-aware checks)
before it is written; an invalid pipeline is never written (exit 2). An unchanged file is
not rewritten.

Examples:
  $ pifleet pipeline generate --fleet examples/fleet.yaml
  $ pifleet pipeline generate --stdout | less
  $ pifleet pipeline generate --json   # {"file","changed","jobs","bytes"}`,
    )
    .action(async (opts: { out: string; stdout?: boolean }, cmd: Command) => {
      const g = globals(cmd);
      const generated = await generateFor(g.fleet);
      if (opts.stdout) {
        process.stdout.write(generated.text);
        return;
      }
      const changed = await writeGenerated(opts.out, generated.text);
      if (g.json) printJson({ file: opts.out, changed, jobs: generated.jobCount, bytes: Buffer.byteLength(generated.text) });
      else print(`${opts.out}: ${changed ? "written" : "unchanged"} (${generated.jobCount} jobs)`);
    });
}

function registerCheck(pipeline: Command): void {
  pipeline
    .command("check")
    .description("exit 1 when the committed .gitlab-ci.yml differs from what the code generates")
    .option("--file <file>", "the committed pipeline file", ".gitlab-ci.yml")
    .addHelpText(
      "after",
      `
Without --fleet, the fleet is the one the committed file was generated for (its
PIFLEET_FLEET variable). Fix a difference by regenerating, never by editing the file.

Examples:
  $ pifleet pipeline check
  $ pifleet pipeline check --json   # {"upToDate","file","fleet","added","removed","excerpt"}`,
    )
    .action(async (opts: { file: string }, cmd: Command) => {
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
    });
}

function registerLint(pipeline: Command): void {
  pipeline
    .command("lint")
    .description("validate any .gitlab-ci.yml: GitLab's schema, GitLab's semantic checks and, with a fleet, fleet-aware checks")
    .argument("<file>", "the pipeline file")
    .option("--no-fleet-checks", "skip the fleet-aware checks even when a fleet file is present")
    .option("--root <dir>", "repository root for include: local paths (default: the file's directory)")
    .addHelpText(
      "after",
      `
include: local files are read and merged (from --root); other include kinds are not fetched,
so while a config has them, needs and extends it cannot see are not reported as undefined.
Fleet-aware checks (tags no runner pool serves, deploys without resource_group, amd64-only
images on arm64 runners) run when --fleet or PIFLEET_FLEET is given, or ./fleet.yaml exists.
Each problem is printed as FILE:LINE:COL: message; any problem exits 2.

Examples:
  $ pifleet pipeline lint .gitlab-ci.yml
  $ pifleet pipeline lint ci/child.yml --fleet examples/fleet.yaml
  $ pifleet pipeline lint .gitlab-ci.yml --json | jq '.errors[].message'`,
    )
    .action(async (file: string, opts: { fleetChecks: boolean; root?: string }, cmd: Command) => {
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
    });
}

function registerGraph(pipeline: Command): void {
  pipeline
    .command("graph")
    .description("print the job graph as Mermaid (stages as boxes, needs as arrows), e.g. for an MR description")
    .option("--file <file>", "the pipeline file", ".gitlab-ci.yml")
    .addHelpText(
      "after",
      `
Examples:
  $ pifleet pipeline graph > graph.mmd
  $ printf '\`\`\`mermaid\\n%s\`\`\`\\n' "$(pifleet pipeline graph)"   # paste into an MR
  $ pifleet pipeline graph --json   # {"mermaid"}`,
    )
    .action(async (opts: { file: string }, cmd: Command) => {
      const text = await readIfExists(opts.file);
      if (text === undefined)
        throw new InputError(`cannot read ${opts.file}: no such file`, "Run `pifleet pipeline generate` first, or pass --file.");
      const { diagnostics, jobs } = lintText(text, opts.file);
      if (diagnostics.length > 0) throw new DiagnosticsError(diagnostics, "Fix the pipeline before drawing it.");
      const mermaid = mermaidGraph(parse(text) as Record<string, unknown>, jobs);
      if (globals(cmd).json) printJson({ mermaid });
      else process.stdout.write(mermaid);
    });
}

export function registerPipeline(program: Command): void {
  const pipeline = program
    .command("pipeline")
    .description("the typed .gitlab-ci.yml: generate it, check it is current, lint any pipeline file, draw the job graph")
    .addHelpText(
      "after",
      `
The repository's .gitlab-ci.yml is generated from pipelines/src/project/pipeline.ts; never edit it.

Examples:
  $ pifleet pipeline generate --fleet examples/fleet.yaml
  $ pifleet pipeline check
  $ pifleet pipeline lint some/.gitlab-ci.yml
  $ pifleet pipeline graph`,
    );
  registerGenerate(pipeline);
  registerCheck(pipeline);
  registerLint(pipeline);
  registerGraph(pipeline);
}
