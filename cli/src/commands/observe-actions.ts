import { readFile } from "node:fs/promises";
import { observeSwarm } from "@pifleet/counter-deploy";
import { writeFileAtomic } from "@pifleet/io";
import { connectRunners, explainRunnerError, observe as observeRunners, redactObserved } from "@pifleet/runner-manager";
import type { Command } from "commander";
import { globals, loadFleet, progressFor } from "../context.js";
import { info, print } from "../output.js";
import { convergeFleet } from "./configure-actions.js";
import { ciSource, driftOf, type FleetObservation } from "./observe-file.js";

export interface ObserveFlags {
  out?: string;
  drift?: boolean;
  workDir: string;
}

/**
 * `pifleet observe`: reads the fleet as the plans do (GitLab's runners and each node's config.toml, the
 * Swarm's stack, with --drift a configure check), redacts every token, and writes observed.json.
 * Needs what the plans need (the fleet key, GITLAB_TOKEN): a protected job's work.
 */
export async function observe(flags: ObserveFlags, cmd: Command): Promise<void> {
  const loaded = await loadFleet(cmd);
  const { fleet, topology } = loaded;
  const progress = progressFor(cmd);
  const ctx = connectRunners(loaded, { progress: (m) => progress.update(m) });
  let observation: FleetObservation;
  try {
    progress.update("reading GitLab's runners and each node's config.toml");
    const runners = redactObserved(await observeRunners(ctx.desired, ctx.api, ctx.nodes));
    progress.update("reading the app stack");
    const swarm = await observeSwarm({ fleet, topology });
    const drift = flags.drift ? driftOf(await convergeFleet(fleet, { check: true, workDir: flags.workDir }, progress)) : null;
    // The fleet file this ran with: what a merge request's configure plan compares its own with.
    const fleetFile = { path: globals(cmd).fleet, text: await readFile(loaded.file, "utf8") };
    observation = {
      version: 1,
      cluster: fleet.cluster,
      observedAt: new Date().toISOString(),
      source: ciSource(process.env),
      runners,
      swarm,
      drift,
      fleetFile,
    };
  } catch (err) {
    throw explainRunnerError(err);
  } finally {
    progress.done();
    await ctx.close();
  }
  const text = `${JSON.stringify(observation, null, 2)}\n`;
  if (!flags.out) return print(text.trimEnd());
  await writeFileAtomic(flags.out, text);
  const unreachable = observation.runners.nodes.filter((n) => !n.reachable).map((n) => n.name);
  if (globals(cmd).json) print(JSON.stringify({ out: flags.out, observedAt: observation.observedAt, unreachable }));
  else
    info(
      `wrote ${flags.out}: ${observation.runners.nodes.length} nodes, ${observation.swarm.services.length} services${unreachable.length ? `, unreachable: ${unreachable.join(", ")}` : ""}`,
    );
}
