import type { Command } from "commander";
import type { CheckFlags, GenerateFlags, GraphFlags, LintFlags } from "./pipeline-actions.js";

const actions = () => import("./pipeline-actions.js");

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
    .action(async (opts: GenerateFlags, cmd: Command) => (await actions()).generate(opts, cmd));
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
    .action(async (opts: CheckFlags, cmd: Command) => (await actions()).check(opts, cmd));
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
    .action(async (file: string, opts: LintFlags, cmd: Command) => (await actions()).lint(file, opts, cmd));
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
    .action(async (opts: GraphFlags, cmd: Command) => (await actions()).graph(opts, cmd));
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
