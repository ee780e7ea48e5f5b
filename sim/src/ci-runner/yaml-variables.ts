import { parse } from "yaml";
import type { JobVariable } from "./invocation.js";
import { expandVariables } from "./shell-plan.js";

/**
 * The `variables:` of .gitlab-ci.yml a job gets, read from gitlab-ci-local's --preview of the
 * pipeline (includes, extends and default resolved by gitlab-ci-local; the global section stays at
 * the top, the job's own in the job). GitLab hands these to the runner with the job; the emulator's
 * payload carries only predefined and project variables, and gitlab-ci-local applies the YAML ones
 * itself for docker jobs, so the shell executor takes them from here. Pure.
 */

export interface YamlVariable {
  key: string;
  value: string;
  /** `expand: false` keeps `$` literal. */
  expand: boolean;
}

type Section = Record<string, unknown>;

const asSection = (v: unknown): Section => (v && typeof v === "object" && !Array.isArray(v) ? (v as Section) : {});

function entries(section: unknown): YamlVariable[] {
  return Object.entries(asSection(section)).flatMap(([key, raw]) => {
    if (raw === null || raw === undefined) return [];
    if (typeof raw === "object") {
      const v = raw as { value?: unknown; expand?: unknown };
      return v.value === undefined ? [] : [{ key, value: String(v.value), expand: v.expand !== false }];
    }
    return [{ key, value: String(raw), expand: true }];
  });
}

/** Global variables (as `inherit:variables` lets the job have them), then the job's own. */
export function yamlVariablesOf(preview: string, jobName: string): YamlVariable[] {
  const doc = asSection(parse(preview.replace(/^---\n/, "")));
  const job = asSection(doc[jobName]);
  const inherit = asSection(job.inherit).variables;
  const global = inherit === false ? [] : entries(doc.variables).filter((v) => !Array.isArray(inherit) || inherit.includes(v.key));
  return [...global, ...entries(job.variables)];
}

/**
 * The job's variables in GitLab's precedence: predefined (public) < global YAML < job YAML <
 * project CI/CD variables. YAML values are expanded against what is defined before them, as the
 * runner expands them.
 */
export function withYamlVariables(
  variables: ReadonlyArray<JobVariable & { public?: boolean }>,
  yaml: readonly YamlVariable[],
): JobVariable[] {
  const strip = ({ key, value, file, masked }: JobVariable): JobVariable => ({ key, value, file, masked });
  const predefined = variables.filter((v) => v.public === true).map(strip);
  const project = variables.filter((v) => v.public !== true).map(strip);
  const merged = new Map(predefined.map((v) => [v.key, v]));
  for (const y of yaml) {
    const value = y.expand ? expandVariables(y.value, (k) => merged.get(k)?.value) : y.value;
    merged.set(y.key, { key: y.key, value, file: false, masked: false });
  }
  for (const v of project) merged.set(v.key, v);
  return [...merged.values()];
}
