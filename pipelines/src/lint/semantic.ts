import type { JobMap } from "./extends.js";
import { findCycle } from "./graph-cycle.js";
import type { Problem } from "./problem.js";

/** GitLab's limits (plan limit ci_needs_size_limit; processable name length; parallel:matrix size). */
export const LIMITS = { needs: 50, nameLength: 255, matrixJobs: 200 } as const;
export const DEFAULT_STAGES = ["build", "test", "deploy"] as const;

interface NeedRef {
  name: string;
  optional: boolean;
  index: number;
  /** needs, or rules:<i>:needs */
  path: (string | number)[];
}

function needRefs(body: Record<string, unknown>): NeedRef[] {
  const collect = (list: unknown, path: (string | number)[]): NeedRef[] =>
    Array.isArray(list)
      ? list.flatMap((n, index): NeedRef[] => {
          if (typeof n === "string") return [{ name: n, optional: false, index, path }];
          if (typeof n === "object" && n !== null && typeof (n as { job?: unknown }).job === "string") {
            const spec = n as { job: string; optional?: boolean };
            return [{ name: spec.job, optional: spec.optional === true, index, path }];
          }
          return []; // cross-project and pipeline needs are not jobs of this pipeline
        })
      : [];
  const rules = Array.isArray(body.rules) ? body.rules : [];
  return [
    ...collect(body.needs, ["needs"]),
    ...rules.flatMap((r, i) => collect((r as { needs?: unknown } | null)?.needs, ["rules", i, "needs"])),
  ];
}

/** Number of jobs a parallel:matrix expands to. */
export function matrixSize(parallel: unknown): number {
  const matrix = (parallel as { matrix?: unknown } | null)?.matrix;
  if (!Array.isArray(matrix)) return 0;
  return matrix.reduce((sum: number, entry) => {
    if (typeof entry !== "object" || entry === null) return sum;
    const sizes = Object.values(entry).map((v) => (Array.isArray(v) ? v.length : 1));
    return sum + sizes.reduce((a, b) => a * b, 1);
  }, 0);
}

/** The names GitLab gives the jobs a `parallel` job expands to. */
export function parallelInstanceNames(name: string, parallel: unknown): string[] {
  if (typeof parallel === "number") return Array.from({ length: parallel }, (_, i) => `${name} ${i + 1}/${parallel}`);
  const matrix = (parallel as { matrix?: unknown } | null)?.matrix;
  if (!Array.isArray(matrix)) return [];
  const names: string[] = [];
  for (const entry of matrix) {
    if (typeof entry !== "object" || entry === null) continue;
    let combos: string[][] = [[]];
    for (const v of Object.values(entry)) {
      const values = (Array.isArray(v) ? v : [v]).map(String);
      combos = combos.flatMap((c) => values.map((x) => [...c, x]));
      if (combos.length > LIMITS.matrixJobs) return names; // reported as too many elsewhere
    }
    for (const c of combos) names.push(`${name}: [${c.join(", ")}]`);
  }
  return names;
}

function stagesOf(doc: Record<string, unknown>): string[] {
  const given = Array.isArray(doc.stages) ? doc.stages.map(String) : [...DEFAULT_STAGES];
  return [".pre", ...given.filter((s) => s !== ".pre" && s !== ".post"), ".post"];
}

/**
 * GitLab's logical validations (YamlProcessor#run_logical_validations! and the
 * entry validations), with GitLab's wording. `jobs` are the visible jobs after
 * extends and defaults.
 */
export interface SemanticOptions {
  /** Jobs whose extends could not be resolved; their missing keys are not reported again. */
  incomplete?: ReadonlySet<string>;
  /** False when includes could not be read: an unknown need may be a job from one of them. */
  allJobsKnown?: boolean;
}

export function semanticProblems(doc: Record<string, unknown>, jobs: JobMap, options: SemanticOptions = {}): Problem[] {
  const incomplete = options.incomplete ?? new Set<string>();
  const allJobsKnown = options.allJobsKnown ?? true;
  const problems: Problem[] = [];
  const add = (path: (string | number)[], message: string) => problems.push({ path, message, check: "semantic" });
  const stages = stagesOf(doc);
  // A parallel job can also be needed by one instance's name ("build 1/2", "build: [arm64, 20]").
  const instanceOf = new Map<string, string>();
  for (const [name, body] of jobs) for (const instance of parallelInstanceNames(name, body.parallel)) instanceOf.set(instance, name);
  const known = (n: string) => jobs.has(n) || instanceOf.has(n);
  const stageOf = (name: string) => String(jobs.get(instanceOf.get(name) ?? name)?.stage ?? "test");

  if (jobs.size === 0 && allJobsKnown) add([], "jobs config should contain at least one visible job");

  for (const [name, body] of jobs) {
    if (name.length > LIMITS.nameLength) add([name], `${name.slice(0, 40)}… job: name is too long (maximum is 255 characters)`);
    // A job whose extends failed already has its error; its missing keys are a consequence.
    if (!incomplete.has(name) && body.script === undefined && body.run === undefined && body.trigger === undefined) {
      add([name], `jobs:${name} config should implement the script:, run:, or trigger: keyword`);
    }
    const stage = stageOf(name);
    if (body.stage !== undefined && typeof body.stage !== "string") {
      add([name, "stage"], `jobs:${name}:stage config should be a string`);
    } else if (!stages.includes(stage)) {
      add([name, "stage"], `${name} job: chosen stage ${stage} does not exist; available stages are ${stages.join(", ")}`);
    }
    if (matrixSize(body.parallel) > LIMITS.matrixJobs) {
      add([name, "parallel", "matrix"], `jobs:${name}:parallel:matrix config generates too many jobs (maximum is ${LIMITS.matrixJobs})`);
    }

    const needs = needRefs(body);
    const plain = needs.filter((n) => n.path.length === 1);
    const counts = new Map<string, number>();
    for (const n of plain) counts.set(n.name, (counts.get(n.name) ?? 0) + 1);
    const duplicated = [...counts].filter(([, c]) => c > 1).map(([n]) => n);
    if (duplicated.length > 0) add([name, "needs"], `${name} has the following needs duplicated: ${duplicated.join(", ")}.`);
    if (plain.length > LIMITS.needs) {
      add(
        [name, "needs"],
        `${name}: one job can only need ${LIMITS.needs} others, but you have listed ${plain.length}. See needs keyword documentation for more details`,
      );
    }
    for (const n of needs) {
      const where = [name, ...n.path, n.index];
      if (n.name.length > LIMITS.nameLength) {
        add(where, `${name} job: need \`${n.name.slice(0, 40)}…\` name is too long (maximum is 255 characters)`);
      } else if (!known(n.name)) {
        if (!n.optional && allJobsKnown) add(where, `${name} job: undefined need: ${n.name}`);
      } else if (stages.indexOf(stageOf(n.name)) > stages.indexOf(stage)) {
        add(where, `${name} job: need ${n.name} is not defined in current or prior stages`);
      }
    }

    const deps = Array.isArray(body.dependencies) ? body.dependencies.map(String) : [];
    deps.forEach((d, i) => {
      if (!known(d)) {
        if (allJobsKnown) add([name, "dependencies", i], `${name} job: undefined dependency: ${d}`);
      } else if (stages.indexOf(stageOf(d)) > stages.indexOf(stage)) {
        add([name, "dependencies", i], `${name} job: dependency ${d} is not defined in current or prior stages`);
      }
    });

    problems.push(...onStopProblems(name, body, jobs));
  }

  const cycle = findCycle(new Map([...jobs].map(([n, b]) => [n, needRefs(b).map((r) => r.name)])));
  if (cycle) {
    const first = cycle[0] ?? "";
    add(
      [first, "needs"],
      cycle.length === 2 ? `self-dependency: ${first}` : `The pipeline has circular dependencies: ${cycle.join(" -> ")}`,
    );
  }
  return problems;
}

function envOf(body: Record<string, unknown> | undefined): { name?: string; action?: string; onStop?: string } | undefined {
  const e = body?.environment;
  if (typeof e === "string") return { name: e };
  if (typeof e !== "object" || e === null) return undefined;
  const o = e as Record<string, unknown>;
  return { name: o.name as string | undefined, action: o.action as string | undefined, onStop: o.on_stop as string | undefined };
}

/** environment:on_stop must name a stop job for the same environment. */
function onStopProblems(name: string, body: Record<string, unknown>, jobs: JobMap): Problem[] {
  const env = envOf(body);
  if (!env?.onStop) return [];
  const path = [name, "environment", "on_stop"];
  const stopper = jobs.get(env.onStop);
  const stopEnv = envOf(stopper);
  let message: string | undefined;
  if (!stopper) message = `${name} job: on_stop job ${env.onStop} is not defined`;
  else if (!stopEnv) message = `${name} job: on_stop job ${env.onStop} does not have environment defined`;
  else if (stopEnv.name !== env.name) message = `${name} job: on_stop job ${env.onStop} have different environment name`;
  else if (stopEnv.action !== "stop") message = `${name} job: on_stop job ${env.onStop} needs to have action stop defined`;
  return message ? [{ path, message, check: "semantic" }] : [];
}
