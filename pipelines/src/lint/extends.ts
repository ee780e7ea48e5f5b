import type { Problem } from "./problem.js";
import { GLOBAL_KEYWORDS } from "./schema.js";

/** GitLab allows 10 levels of `extends`. */
export const MAX_EXTENDS_DEPTH = 10;

export type JobMap = Map<string, Record<string, unknown>>;

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** GitLab's extends merge: maps merge deeply, everything else (lists too) is replaced. */
export function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isMap(b) && isMap(v) ? deepMerge(b, v) : v;
  }
  return out;
}

function extendsList(body: Record<string, unknown>): string[] {
  const e = body.extends;
  if (typeof e === "string") return [e];
  return Array.isArray(e) ? e.filter((x): x is string => typeof x === "string") : [];
}

/** The job-like entries of a document (every top-level key that is not a global keyword), hidden ones included. */
export function jobEntries(doc: Record<string, unknown>): JobMap {
  const jobs: JobMap = new Map();
  for (const [name, body] of Object.entries(doc)) if (!GLOBAL_KEYWORDS.has(name) && isMap(body)) jobs.set(name, body);
  return jobs;
}

/**
 * Resolves `extends` for every job, as GitLab does before its other checks,
 * reporting unknown templates, cycles and nesting deeper than 10 levels with
 * GitLab's wording. Jobs with an extends problem keep their own keys only.
 */
export function resolveExtends(jobs: JobMap, allJobsKnown = true): { jobs: JobMap; problems: Problem[]; incomplete: Set<string> } {
  const resolved: JobMap = new Map();
  const problems: Problem[] = [];
  const reported = new Set<string>();
  const report = (name: string, message: string) => {
    if (reported.has(name)) return;
    reported.add(name);
    problems.push({ path: [name, "extends"], message, check: "semantic" });
  };

  // How many `extends` levels sit below a resolved job (0 for a job without extends).
  const depth = new Map<string, number>();
  const resolve = (name: string, chain: string[]): Record<string, unknown> | undefined => {
    const done = resolved.get(name);
    if (done) return done;
    const body = jobs.get(name);
    if (!body) return undefined;
    const parents = extendsList(body);
    if (parents.length === 0) {
      depth.set(name, 0);
      return body;
    }
    if (chain.includes(name)) {
      report(name, `${name}: circular dependency detected in \`extends\``);
      return undefined;
    }
    const unknown = parents.filter((p) => !jobs.has(p));
    if (unknown.length > 0) {
      // A template from an include we could not read is not an error we can prove.
      if (allJobsKnown) report(name, `${name}: unknown keys in \`extends\` (${unknown.join(", ")})`);
      return undefined;
    }
    let merged: Record<string, unknown> = {};
    let below = 0;
    for (const p of parents) {
      const base = resolve(p, [...chain, name]);
      if (!base) return undefined;
      merged = deepMerge(merged, base);
      below = Math.max(below, depth.get(p) ?? 0);
    }
    if (below + 1 > MAX_EXTENDS_DEPTH) {
      report(name, `${name}: nesting too deep in \`extends\``);
      return undefined;
    }
    depth.set(name, below + 1);
    const { extends: _drop, ...own } = body;
    const out = deepMerge(merged, own);
    resolved.set(name, out);
    return out;
  };

  const out: JobMap = new Map();
  const incomplete = new Set<string>();
  for (const [name, body] of jobs) {
    const full = resolve(name, []);
    if (!full) incomplete.add(name);
    out.set(name, full ?? body);
  }
  return { jobs: out, problems, incomplete };
}

/** Keys `default:` (and the old top-level globals) give to jobs that lack them. */
const DEFAULTABLE = [
  "after_script",
  "artifacts",
  "before_script",
  "cache",
  "hooks",
  "id_tokens",
  "image",
  "interruptible",
  "retry",
  "services",
  "tags",
  "timeout",
];

/** Applies `default:` to visible jobs, honouring `inherit:default`. */
export function applyDefaults(doc: Record<string, unknown>, jobs: JobMap): JobMap {
  const defaults: Record<string, unknown> = {};
  for (const k of DEFAULTABLE) if (doc[k] !== undefined) defaults[k] = doc[k];
  if (isMap(doc.default)) Object.assign(defaults, doc.default);
  const out: JobMap = new Map();
  for (const [name, body] of jobs) {
    const inherit = isMap(body.inherit) ? body.inherit.default : undefined;
    const keys = inherit === false ? [] : Array.isArray(inherit) ? inherit.map(String) : Object.keys(defaults);
    const given: Record<string, unknown> = {};
    for (const k of keys) if (body[k] === undefined && defaults[k] !== undefined) given[k] = defaults[k];
    out.set(name, { ...given, ...body });
  }
  return out;
}
