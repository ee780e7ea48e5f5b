import { type Diagnostic, diagnosticAt, type Fleet, parseLocatedYaml } from "@pifleet/fleet";
import { credentialProblems } from "./credential-checks.js";
import { applyDefaults, jobEntries, resolveExtends } from "./extends.js";
import { fleetProblems } from "./fleet-checks.js";
import { type IncludeReader, mergeLocalIncludes } from "./includes.js";
import type { Problem } from "./problem.js";
import { resolveReferences } from "./references.js";
import { schemaProblems } from "./schema.js";
import { semanticProblems } from "./semantic.js";

export interface LintOptions {
  /** Enables the fleet-aware checks. */
  fleet?: { fleet: Fleet; file: string };
  /** Reads `include: local` files (paths from the repository root); without it, includes are not followed. */
  readInclude?: IncludeReader;
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
  const merged = mergeLocalIncludes(raw as Record<string, unknown>, file, options.readInclude);
  const doc = merged.doc;
  const referenceProblems = resolveReferences(y.doc, doc);
  // Jobs and templates from includes we cannot read are unknown, so "undefined" findings would be guesses.
  const complete = merged.unresolved === 0;
  const problems: Problem[] = [...referenceProblems, ...schemaProblems(doc)];
  const expanded = resolveExtends(jobEntries(doc), complete);
  problems.push(...expanded.problems);
  const visible = new Map([...expanded.jobs].filter(([name]) => !name.startsWith(".")));
  const jobs = applyDefaults(doc, visible);
  problems.push(...semanticProblems(doc, jobs, { incomplete: expanded.incomplete, allJobsKnown: complete }));
  if (options.fleet) {
    problems.push(...fleetProblems(jobs, options.fleet.fleet, options.fleet.file), ...credentialProblems(doc, jobs, options.fleet.fleet));
  }
  const diagnostics = [
    ...merged.diagnostics.map((d) => ({ ...d, check: "schema" as const })),
    ...problems.map((p) => {
      const where = merged.origin.get(String(p.path[0] ?? "")) ?? y;
      return { ...diagnosticAt(where, p.path, p.message, p.at === "key" ? "key" : "value"), check: p.check };
    }),
  ];
  diagnostics.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.col - b.col || a.message.localeCompare(b.message));
  return { diagnostics, jobs };
}
