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
    case "required":
      return `is missing required key ${String(e.params.missingProperty)}`;
    default:
      return e.message ?? e.keyword;
  }
}

const isPrefix = (a: readonly PathSegment[], b: readonly PathSegment[]) => a.length < b.length && a.every((seg, i) => seg === b[i]);

/**
 * anyOf/oneOf in GitLab's schema make Ajv report every branch that failed.
 * Per place in the document keep the most telling finding: unknown keys, else
 * a broken constraint of a branch whose type matched (enum, maximum, pattern),
 * else one "should be A or B" for the types the branches wanted. A place whose
 * only complaint is its type is dropped when a deeper place has findings: the
 * value had the right shape, something inside it is wrong.
 */
function mostTelling(errors: ErrorObject[]): Array<{ path: PathSegment[]; picked: ErrorObject[]; types: string[] }> {
  const groups = new Map<string, { path: PathSegment[]; errors: ErrorObject[] }>();
  for (const e of errors) {
    if (["anyOf", "oneOf", "if", "then", "else", "not", "false schema"].includes(e.keyword)) continue;
    const g = groups.get(e.instancePath) ?? { path: pathOf(e), errors: [] };
    g.errors.push(e);
    groups.set(e.instancePath, g);
  }
  const out = [...groups.values()].map(({ path, errors: errs }) => {
    const unknown = errs.filter((e) => e.keyword === "additionalProperties");
    const constraints = errs.filter((e) => e.keyword !== "type" && e.keyword !== "additionalProperties");
    const types = [...new Set(errs.filter((e) => e.keyword === "type").map((e) => String(e.params.type)))];
    if (unknown.length > 0) return { path, picked: unknown, types: [] };
    if (constraints.length > 0) return { path, picked: constraints.slice(0, 1), types: [] };
    return { path, picked: [], types };
  });
  return out.filter(
    (g) => g.picked.length > 0 || !out.some((other) => other !== g && other.picked.length > 0 && isPrefix(g.path, other.path)),
  );
}

/** Validates the raw document against GitLab's JSON schema. */
export function schemaProblems(raw: unknown): Problem[] {
  const validate = validator();
  if (validate(raw)) return [];
  const problems: Problem[] = [];
  const seen = new Set<string>();
  for (const { path, picked, types } of mostTelling(validate.errors ?? [])) {
    const top = String(path[0] ?? "");
    const where = gitlabPath(path, top !== "" && !GLOBAL_KEYWORDS.has(top)) || "root";
    const found: Problem[] = picked.map((e) =>
      e.keyword === "additionalProperties"
        ? {
            path: [...path, String(e.params.additionalProperty)],
            at: "key" as const,
            message: `${where} config contains unknown keys: ${String(e.params.additionalProperty)}`,
            check: "schema" as const,
          }
        : { path, message: `${where} config ${describe(e)}`, check: "schema" as const },
    );
    if (types.length > 0) found.push({ path, message: `${where} config should be ${types.join(" or ")}`, check: "schema" });
    for (const p of found) {
      if (seen.has(p.message)) continue;
      seen.add(p.message);
      problems.push(p);
    }
  }
  return problems;
}
