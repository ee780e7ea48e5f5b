import { type LoadedFleet, loadFleetFile } from "@pifleet/fleet";
import type { Command } from "commander";
import { createProgress, type Progress } from "./progress.js";

export interface GlobalOptions {
  fleet: string;
  json: boolean;
  verbose: boolean;
}

/** The global flags, read from the root program whatever subcommand runs. */
export function globals(cmd: Command): GlobalOptions {
  let root = cmd;
  while (root.parent) root = root.parent;
  const o = root.opts<{ fleet: string; json?: boolean; verbose?: boolean }>();
  return { fleet: o.fleet, json: Boolean(o.json), verbose: Boolean(o.verbose) };
}

/** Whether --fleet / PIFLEET_FLEET was given, rather than left at its default. */
export function fleetGiven(cmd: Command): boolean {
  let root = cmd;
  while (root.parent) root = root.parent;
  return root.getOptionValueSource("fleet") !== "default";
}

export function loadFleet(cmd: Command): Promise<LoadedFleet> {
  return loadFleetFile(globals(cmd).fleet);
}

/** Progress on stderr; silent under --json unless --verbose. */
export function progressFor(cmd: Command): Progress {
  const g = globals(cmd);
  return createProgress({ quiet: g.json && !g.verbose });
}
