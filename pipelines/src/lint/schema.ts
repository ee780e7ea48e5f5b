import { readFileSync } from "node:fs";
import type { PathSegment } from "@pifleet/fleet";
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";
import { gitlabPath, type Problem } from "./problem.js";

// ajv-formats is CommonJS; under NodeNext its default import is the module object.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

/** GitLab's own CI schema, copied verbatim (see schema/SOURCE.md). */
export const SCHEMA_FILE = new URL("../../schema/gitlab-ci.schema.json", import.meta.url);

/** Top-level keys that are not jobs (from the schema's root properties). */
export const GLOBAL_KEYWORDS: ReadonlySet<string> = new Set([
  "$schema",
  "spec",
  "image",
  "services",
  "before_script",
  "after_script",
  "variables",
  "cache",
  "!reference",
  "default",
  "stages",
  "include",
  "pages",
  "workflow",
]);

let compiled: ValidateFunction | undefined;

/** Compiled once per process: compiling the 115 kB schema is the slow part of linting. */
function validator(): ValidateFunction {
  if (!compiled) {
    const ajv = new Ajv({ strict: false, allErrors: true, verbose: false });
    addFormats(ajv);
    compiled = ajv.compile(JSON.parse(readFileSync(SCHEMA_FILE, "utf8")) as object);
  }
  return compiled;
}

function pathOf(e: ErrorObject): PathSegment[] {
  if (e.instancePath === "") return [];
  return e.instancePath
    .slice(1)
    .split("/")
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function describe(e: ErrorObject): string {
  switch (e.keyword) {
    case "enum":
      return `must be one of: ${(e.params.allowedValues as unknown[]).map(String).join(", ")}`;
    case "type":
      return `should be ${String(e.params.type).replace(",", " or ")}`;
    case "required":
      return `is missing required key ${String(e.params.missingProperty)}`;
    default:
      return e.message ?? e.keyword;
  }
}

/**
 * anyOf/oneOf in GitLab's schema make Ajv report every branch that failed.
 * Keep the most specific findings: unknown keys first, else the deepest paths,
 * and never the bare "must match a schema in anyOf" summaries.
 */
function mostSpecific(errors: ErrorObject[]): ErrorObject[] {
  const concrete = errors.filter((e) => !["anyOf", "oneOf", "if", "then", "else", "not"].includes(e.keyword));
  const unknown = concrete.filter((e) => e.keyword === "additionalProperties");
  if (unknown.length > 0) return unknown;
  const deepest = Math.max(0, ...concrete.map((e) => pathOf(e).length));
  const picked = concrete.filter((e) => pathOf(e).length === deepest);
  return picked.length > 0 ? picked : errors.slice(0, 1);
}

/** Validates the raw document against GitLab's JSON schema. */
export function schemaProblems(raw: unknown): Problem[] {
  const validate = validator();
  if (validate(raw)) return [];
  const byJobOrKeyword = new Map<string, ErrorObject[]>();
  for (const e of validate.errors ?? []) {
    const top = String(pathOf(e)[0] ?? "");
    byJobOrKeyword.set(top, [...(byJobOrKeyword.get(top) ?? []), e]);
  }
  const problems: Problem[] = [];
  const seen = new Set<string>();
  for (const [top, errors] of byJobOrKeyword) {
    const isJob = top !== "" && !GLOBAL_KEYWORDS.has(top);
    for (const e of mostSpecific(errors)) {
      const path = pathOf(e);
      const where = gitlabPath(path, isJob) || "root";
      let problem: Problem;
      if (e.keyword === "additionalProperties") {
        const key = String(e.params.additionalProperty);
        problem = { path: [...path, key], at: "key", message: `${where} config contains unknown keys: ${key}`, check: "schema" };
      } else {
        problem = { path, message: `${where} config ${describe(e)}`, check: "schema" };
      }
      if (seen.has(problem.message)) continue;
      seen.add(problem.message);
      problems.push(problem);
    }
  }
  return problems;
}
