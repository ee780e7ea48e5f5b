import { type Diagnostic, diagnosticAt, type Fleet, parseLocatedYaml } from "@pifleet/fleet";
import { applyDefaults, jobEntries, resolveExtends } from "./extends.js";
import { fleetProblems } from "./fleet-checks.js";
import type { Problem } from "./problem.js";
import { schemaProblems } from "./schema.js";
import { semanticProblems } from "./semantic.js";

export interface LintOptions {
  /** Enables the fleet-aware checks. */
  fleet?: { fleet: Fleet; file: string };
}

export interface LintResult {
  diagnostics: Array<Diagnostic & { check: Problem["check"] }>;
  /** Visible jobs after extends and default, for callers that want them (graph, counts). */
  jobs: Map<string, Record<string, unknown>>;
}

/**
 * Lints .gitlab-ci.yml text in three layers: GitLab's JSON schema, GitLab's
 * semantic checks, then (with a fleet) the fleet-aware checks. Every finding
 * carries file:line:col. Pure apart from reading the bundled schema once.
 */
export function lintText(text: string, file: string, options: LintOptions = {}): LintResult {
  const y = parseLocatedYaml(text, file);
  if (y.syntaxErrors.length > 0) return { diagnostics: y.syntaxErrors.map((d) => ({ ...d, check: "schema" })), jobs: new Map() };
  const raw: unknown = y.doc.toJS({ maxAliasCount: 1000 });
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    const d = diagnosticAt(y, [], "root config should be a hash of jobs and global keywords");
    return { diagnostics: [{ ...d, check: "schema" }], jobs: new Map() };
  }
  const doc = raw as Record<string, unknown>;
  const problems: Problem[] = [...schemaProblems(doc)];
  const expanded = resolveExtends(jobEntries(doc));
  problems.push(...expanded.problems);
  const visible = new Map([...expanded.jobs].filter(([name]) => !name.startsWith(".")));
  const jobs = applyDefaults(doc, visible);
  problems.push(...semanticProblems(doc, jobs, expanded.incomplete));
  if (options.fleet) problems.push(...fleetProblems(jobs, options.fleet.fleet, options.fleet.file));
  const diagnostics = problems.map((p) => ({ ...diagnosticAt(y, p.path, p.message, p.at === "key" ? "key" : "value"), check: p.check }));
  diagnostics.sort((a, b) => a.line - b.line || a.col - b.col || a.message.localeCompare(b.message));
  return { diagnostics, jobs };
}
