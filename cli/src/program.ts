import { readFileSync } from "node:fs";
import { Command, Option } from "commander";
import { registerApp } from "./commands/app.js";
import { registerBootstrap } from "./commands/bootstrap.js";
import { registerConfigure } from "./commands/configure.js";
import { registerMr } from "./commands/mr.js";
import { registerObserve } from "./commands/observe.js";
import { registerPipeline } from "./commands/pipeline.js";
import { registerRunners } from "./commands/runners.js";
import { registerSim } from "./commands/sim.js";
import { registerUpgrade } from "./commands/upgrade.js";
import { registerValidate } from "./commands/validate.js";

const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };

/** Builds the `pifleet` command tree. Each module's commands live in commands/. */
export function buildProgram(): Command {
  const program = new Command("pifleet")
    .description("Run a cluster of Raspberry Pis the GitLab way: one fleet.yaml drives Ansible, runners, pipelines and the app.")
    .version(pkg.version, "-V, --version", "print the pifleet version")
    .addOption(new Option("-f, --fleet <path>", "fleet file (the single source of truth)").env("PIFLEET_FLEET").default("fleet.yaml"))
    .addOption(new Option("--json", "machine-readable output on stdout; logs and progress on stderr").env("PIFLEET_JSON"))
    .addOption(new Option("-v, --verbose", "more detail on stderr").env("PIFLEET_VERBOSE"))
    .showHelpAfterError("(run with --help for usage)")
    .showSuggestionAfterError(true)
    .enablePositionalOptions(false)
    .addHelpText(
      "after",
      `
Exit codes: 0 ok, 1 operation failed, 2 bad input or config, 3 environment missing.

Start here:
  $ pifleet validate --fleet examples/fleet.yaml   check a fleet file
  $ pifleet sim up                                 a simulated 4-Pi fleet on this machine`,
    );
  registerValidate(program);
  registerBootstrap(program);
  registerConfigure(program);
  registerPipeline(program);
  registerMr(program);
  registerRunners(program);
  registerObserve(program);
  registerUpgrade(program);
  registerSim(program);
  registerApp(program);
  return program;
}
