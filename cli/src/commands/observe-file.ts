import { readFile } from "node:fs/promises";
import type { HostDrift, PlaybookResult } from "@pifleet/ansible-bridge";
import { parseSwarmObservation, type SwarmState } from "@pifleet/counter-deploy";
import { InputError } from "@pifleet/fleet";
import type { Observed } from "@pifleet/runner-manager";

/**
 * observed.json: what a protected job saw of the fleet, for plans that may not look themselves (a
 * merge request's jobs hold no SSH key and no runner token: docs/security.md, design D). It holds no
 * secret: runner tokens are redacted before it is made, so it can be an ordinary artifact.
 */
export interface FleetObservation {
  version: 1;
  cluster: string;
  /** ISO time the observation finished. */
  observedAt: string;
  /** The pipeline and job that observed (from GitLab's CI_* variables); empty outside CI. */
  source: ObservationSource;
  /** runner-manager's observation, every config.toml token redacted. */
  runners: Observed;
  /** The app stack as `app plan` reads it. */
  swarm: SwarmState;
  /** Per host, the tasks `configure --check` would change; null when not checked (`observe` without --drift). */
  drift: HostDrift[] | null;
  /** The fleet file the observing job ran with (the deployed one): what an MR's configure plan compares with. No secret: key paths only. */
  fleetFile?: { path: string; text: string };
}

export interface ObservationSource {
  pipelineId?: string;
  pipelineIid?: string;
  pipelineUrl?: string;
  jobId?: string;
  jobUrl?: string;
  ref?: string;
  commit?: string;
}

const SOURCE_VARIABLES: Record<keyof ObservationSource, string> = {
  pipelineId: "CI_PIPELINE_ID",
  pipelineIid: "CI_PIPELINE_IID",
  pipelineUrl: "CI_PIPELINE_URL",
  jobId: "CI_JOB_ID",
  jobUrl: "CI_JOB_URL",
  ref: "CI_COMMIT_REF_NAME",
  commit: "CI_COMMIT_SHA",
};

/** Which pipeline and job this is, from GitLab's predefined variables (pure). */
export function ciSource(env: Readonly<Record<string, string | undefined>>): ObservationSource {
  return Object.fromEntries(
    Object.entries(SOURCE_VARIABLES).flatMap(([field, name]) => (env[name] ? [[field, env[name]]] : [])),
  ) as ObservationSource;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** observed.json back from its text; InputError (exit 2) names the file, what is wrong, and where a good one comes from. */
export function parseObservation(text: string, file: string, cluster: string): FleetObservation {
  const bad = (problem: string) =>
    new InputError(
      `${file} is not a fleet observation: ${problem}`,
      "Use the observed.json of a fleet-observe job (`pifleet observe --out observed.json` in a protected pipeline).",
    );
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw bad("not JSON");
  }
  if (!isObject(value) || value.version !== 1) throw bad('"version": 1 is required');
  if (value.cluster !== cluster)
    throw bad(`it observed cluster ${JSON.stringify(value.cluster)}, and the fleet file is cluster ${cluster}`);
  if (typeof value.observedAt !== "string") throw bad("observedAt: an ISO time is required");
  const runners = value.runners;
  if (!isObject(runners) || !Array.isArray(runners.runners) || !Array.isArray(runners.nodes))
    throw bad("runners: {runners, nodes} is required");
  if (value.drift !== null && !Array.isArray(value.drift)) throw bad("drift: a list or null is required");
  return {
    version: 1,
    cluster,
    observedAt: value.observedAt,
    source: isObject(value.source) ? (value.source as ObservationSource) : {},
    runners: runners as unknown as Observed,
    swarm: parseSwarmObservation(value.swarm, `${file} (swarm)`),
    drift: value.drift as HostDrift[] | null,
    ...(isObject(value.fleetFile) && typeof value.fleetFile.text === "string"
      ? { fleetFile: { path: String(value.fleetFile.path), text: value.fleetFile.text } }
      : {}),
  };
}

/** One line for a plan: which pipeline observed the fleet, and when (markdown). */
export function describeObservation(o: FleetObservation): string {
  const { pipelineIid, pipelineId, pipelineUrl } = o.source;
  const number = pipelineIid ?? pipelineId;
  const pipeline = number ? (pipelineUrl ? `[pipeline #${number}](${pipelineUrl})` : `pipeline #${number}`) : "a run outside CI";
  return `Fleet state as observed by ${pipeline} at ${o.observedAt}.`;
}

/** Drift from a `configure --check` run (pure): the hosts with tasks that would change (names only, no diffs), and unreachable ones. */
export function driftOf(result: Pick<PlaybookResult, "hosts" | "changes">): HostDrift[] {
  return Object.entries(result.hosts).flatMap(([host, recap]) => {
    const tasks = [...new Set(result.changes.filter((c) => c.host === host).map((c) => c.task))];
    if (recap.unreachable > 0) return [{ host, tasks, unreachable: true }];
    return tasks.length > 0 ? [{ host, tasks }] : [];
  });
}

/** A JSON file a person or a pipeline handed over; unreadable is bad input (exit 2), like malformed. */
export async function readInputFile(file: string, what: string): Promise<string> {
  return readFile(file, "utf8").catch((err: unknown) => {
    throw new InputError(
      `cannot read the ${what} ${file}: ${err instanceof Error ? err.message : String(err)}`,
      `Give the path of ${what}.`,
    );
  });
}

/** observed.json, read and checked against the fleet's cluster. */
export const readObservation = async (file: string, cluster: string): Promise<FleetObservation> =>
  parseObservation(await readInputFile(file, "observation"), file, cluster);
