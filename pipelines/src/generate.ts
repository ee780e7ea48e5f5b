import { DiagnosticsError, type Fleet } from "@pifleet/fleet";
import { parse } from "yaml";
import { lintText } from "./lint/lint.js";
import type { PipelineSpec } from "./model/types.js";
import { PROJECT_PIPELINE_SOURCE, projectPipeline } from "./project/pipeline.js";
import { emitYaml, type Provenance } from "./render/emit.js";
import { renderPipeline } from "./render/render.js";

export interface Generated {
  /** The YAML text, header included. */
  text: string;
  /** Visible jobs in the generated file. */
  jobCount: number;
}

export interface GenerateInput {
  spec: PipelineSpec;
  provenance: Provenance;
  /** Lints with the fleet-aware checks too. */
  fleet?: { fleet: Fleet; file: string };
  /** File name used in diagnostics. */
  outFile?: string;
}

/**
 * Renders, emits and validates. A generated file that fails its own lint is a
 * bug in the pipeline code, so it is refused (DiagnosticsError, exit 2) rather
 * than written.
 */
export function generate(input: GenerateInput): Generated {
  const text = emitYaml(renderPipeline(input.spec), input.provenance);
  const { diagnostics, jobs } = lintText(text, input.outFile ?? ".gitlab-ci.yml", { fleet: input.fleet });
  if (diagnostics.length > 0) {
    throw new DiagnosticsError(
      diagnostics,
      `The pipeline defined in ${input.provenance.source} does not validate; fix the TypeScript (the positions are in the generated text).`,
    );
  }
  return { text, jobCount: jobs.size };
}

/** The command that regenerates the project pipeline for a fleet file. */
export function regenerateCommand(fleetPath: string): string {
  return `npx pifleet pipeline generate --fleet ${fleetPath}`;
}

/** The repository's own .gitlab-ci.yml for a fleet. */
export function generateProjectPipeline(fleet: Fleet, fleetPath: string): Generated {
  return generate({
    spec: projectPipeline(fleet, { fleetPath }),
    provenance: { source: PROJECT_PIPELINE_SOURCE, fleet: fleetPath, regenerate: regenerateCommand(fleetPath) },
    fleet: { fleet, file: fleetPath },
  });
}

/** The fleet file a committed project pipeline was generated for (its PIFLEET_FLEET variable). */
export function fleetPathOf(committed: string): string | undefined {
  try {
    const doc = parse(committed) as { variables?: { PIFLEET_FLEET?: unknown } } | null;
    const v = doc?.variables?.PIFLEET_FLEET;
    const value = typeof v === "object" && v !== null ? (v as { value?: unknown }).value : v;
    return typeof value === "string" ? value : undefined;
  } catch {
    return undefined;
  }
}
