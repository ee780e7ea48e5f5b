import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type Diagnostic, type LocatedYaml, parseLocatedYaml } from "@pifleet/fleet";
import { deepMerge } from "./extends.js";

/** Reads a file an `include: local` names, relative to the repository root; undefined when absent. */
export type IncludeReader = (path: string) => string | undefined;

/** Reads includes from a directory on disk (the repository root; for a .gitlab-ci.yml, its own directory). */
export function includeReaderFrom(root: string): IncludeReader {
  return (path) => {
    try {
      return readFileSync(join(root, path), "utf8");
    } catch {
      return undefined;
    }
  };
}

/** GitLab's default limit on included files (the application setting ci_max_includes). */
export const MAX_INCLUDES = 150;

export interface MergedConfig {
  doc: Record<string, unknown>;
  /** For keys that came from an included file: that file, for positions. */
  origin: Map<string, LocatedYaml>;
  /** Includes that were not read (template, remote, project, component, wildcards): their jobs are unknown. */
  unresolved: number;
  diagnostics: Diagnostic[];
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function includeEntries(doc: Record<string, unknown>): unknown[] {
  const inc = doc.include;
  return inc === undefined ? [] : Array.isArray(inc) ? inc : [inc];
}

/** The local path of an include entry, or undefined for any other kind. */
function localPath(entry: unknown): string | undefined {
  if (typeof entry === "string") return /^https?:\/\//.test(entry) ? undefined : entry;
  return isMap(entry) && typeof entry.local === "string" ? entry.local : undefined;
}

/**
 * Merges `include: local` files into the document as GitLab does: included
 * files first, the including file's own keys win (maps merge deeply). Nested
 * includes are followed; other include kinds are counted as unresolved.
 */
export function mergeLocalIncludes(main: Record<string, unknown>, mainFile: string, read: IncludeReader | undefined): MergedConfig {
  const origin = new Map<string, LocatedYaml>();
  const diagnostics: Diagnostic[] = [];
  let unresolved = 0;
  let count = 0;
  const seen = new Set<string>();

  const expand = (doc: Record<string, unknown>, from: string): Record<string, unknown> => {
    let base: Record<string, unknown> = {};
    for (const entry of includeEntries(doc)) {
      const path = localPath(entry);
      if (path === undefined || path.includes("*") || !read) {
        unresolved++;
        continue;
      }
      const clean = path.replace(/^\/+/, "");
      if (seen.has(clean)) continue;
      seen.add(clean);
      if (++count > MAX_INCLUDES) {
        diagnostics.push({
          file: from,
          line: 1,
          col: 1,
          path: "include",
          message: `Maximum of ${MAX_INCLUDES} nested includes are allowed!`,
        });
        break;
      }
      const text = read(clean);
      if (text === undefined) {
        diagnostics.push({ file: from, line: 1, col: 1, path: "include", message: `Local file \`${clean}\` does not exist!` });
        continue;
      }
      const y = parseLocatedYaml(text, clean);
      diagnostics.push(...y.syntaxErrors);
      const raw: unknown = y.doc.toJS({ maxAliasCount: 1000 });
      if (!isMap(raw)) continue;
      const included = expand(raw, clean);
      for (const key of Object.keys(raw)) if (key !== "include" && !origin.has(key)) origin.set(key, y);
      base = deepMerge(base, included);
    }
    const { include: _include, ...own } = doc;
    return deepMerge(base, own);
  };

  const doc = expand(main, mainFile);
  // Keys the main file defines itself are located in the main file.
  for (const key of Object.keys(main)) origin.delete(key);
  return { doc, origin, unresolved, diagnostics };
}
