import type { SimVariable } from "./ci-state.js";

/** A project variable as the runner receives it for one job (the `variables` of a job payload). */
export interface JobVariable {
  key: string;
  value: string;
  /** A file variable: the runner writes the value to a file and sets the variable to its path. */
  file: boolean;
  masked: boolean;
  /** Not expanded ($OTHER stays as it is). */
  raw: boolean;
  /** A protected variable (only protected refs get it); recorded, never sent in the payload. */
  protected: boolean;
}

export interface JobContext {
  /** The pipeline's ref is protected (in the sim: the default branch). */
  protectedRef: boolean;
  /** The job's environment (environment:name), if it deploys to one. */
  environment?: string;
}

/** Gitlab's environment_scope match: `*` matches any environment, and a `*` inside a scope matches any characters. */
export function scopeMatches(scope: string, environment: string): boolean {
  if (scope === "*") return true;
  const pattern = scope.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"));
  return new RegExp(`^${pattern.join(".*")}$`).test(environment);
}

/**
 * The project variables GitLab hands to a job (Project#ci_variables_for): protected ones only on
 * protected refs; a job without an environment gets only the `*`-scoped ones, a job with one those
 * whose scope matches it, a specific scope winning over `*` for the same key.
 */
export function variablesForJob(variables: readonly SimVariable[], ctx: JobContext): JobVariable[] {
  const eligible = variables.filter(
    (v) =>
      (ctx.protectedRef || !v.protected) &&
      (ctx.environment === undefined ? v.environment_scope === "*" : scopeMatches(v.environment_scope, ctx.environment)),
  );
  const byKey = new Map<string, SimVariable>();
  for (const v of eligible) {
    const held = byKey.get(v.key);
    if (!held || (held.environment_scope === "*" && v.environment_scope !== "*")) byKey.set(v.key, v);
  }
  return [...byKey.values()]
    .sort((a, b) => a.id - b.id)
    .map((v) => ({ key: v.key, value: v.value, file: v.variable_type === "file", masked: v.masked, raw: v.raw, protected: v.protected }));
}
