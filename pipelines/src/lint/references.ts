import type { PathSegment } from "@pifleet/fleet";
import { type Document, isMap, isPair, isScalar, isSeq, type Node } from "yaml";
import type { Problem } from "./problem.js";

/** Keys whose lists GitLab flattens when a !reference puts a list inside them. */
const SCRIPT_KEYS = new Set(["script", "before_script", "after_script"]);

interface Reference {
  /** Where the tag sits in the document. */
  at: PathSegment[];
  /** What it points at: [job or keyword, key, ...]. */
  target: string[];
}

/** Every `!reference [a, b]` in the document, with its place. */
function findReferences(node: unknown, at: PathSegment[], out: Reference[]): Reference[] {
  if (isMap(node)) {
    for (const pair of node.items) if (isPair(pair) && isScalar(pair.key)) findReferences(pair.value, [...at, String(pair.key.value)], out);
  } else if (isSeq(node)) {
    if ((node as Node).tag === "!reference") {
      out.push({ at, target: node.items.map((i) => (isScalar(i) ? String(i.value) : "")) });
    } else {
      node.items.forEach((item, i) => {
        findReferences(item, [...at, i], out);
      });
    }
  }
  return out;
}

function get(data: unknown, path: readonly PathSegment[]): unknown {
  let cur = data;
  for (const seg of path) {
    if (typeof cur !== "object" || cur === null) return undefined;
    cur = (cur as Record<string | number, unknown>)[seg];
  }
  return cur;
}

function set(data: unknown, path: readonly PathSegment[], value: unknown): void {
  const parent = get(data, path.slice(0, -1)) as Record<string | number, unknown>;
  const last = path[path.length - 1];
  if (last !== undefined) parent[last] = value;
}

/** "b job: " for a reference inside job b (GitLab's message itself names only the reference). */
const where = (r: Reference) => (r.at.length > 0 ? `${String(r.at[0])} job: ` : "");

const startsWith = (path: readonly PathSegment[], prefix: readonly PathSegment[]) =>
  prefix.length <= path.length && prefix.every((seg, i) => seg === path[i]);

/**
 * Replaces each `!reference` with the value it points at, as GitLab does
 * before validating (references may point at other references). Lists a
 * reference brings into a script are flattened. Mutates `data` (the document's
 * toJS() copy); returns a problem per reference that cannot be resolved.
 */
export function resolveReferences(doc: Document, data: Record<string, unknown>): Problem[] {
  let pending = findReferences(doc.contents, [], []);
  const problems: Problem[] = [];
  // Flattened at the end: flattening earlier would shift the indices of later references.
  const scripts = new Map<string, PathSegment[]>();
  while (pending.length > 0) {
    // Resolve first what points at nothing still pending.
    const ready = pending.filter((r) => !pending.some((other) => other !== r && startsWith(other.at, r.target)));
    if (ready.length === 0) {
      for (const r of pending)
        problems.push({ path: r.at, message: `${where(r)}!reference ${JSON.stringify(r.target)} is circular`, check: "semantic" });
      break;
    }
    for (const r of ready) {
      const value = get(data, r.target);
      if (value === undefined) {
        problems.push({ path: r.at, message: `${where(r)}!reference ${JSON.stringify(r.target)} could not be found`, check: "semantic" });
        continue;
      }
      set(data, r.at, structuredClone(value));
      const scriptKey = r.at.findLastIndex((seg) => typeof seg === "string" && SCRIPT_KEYS.has(seg));
      if (scriptKey !== -1) scripts.set(JSON.stringify(r.at.slice(0, scriptKey + 1)), r.at.slice(0, scriptKey + 1));
    }
    pending = pending.filter((r) => !ready.includes(r));
  }
  for (const path of scripts.values()) {
    const script = get(data, path);
    if (Array.isArray(script)) set(data, path, script.flat(10));
  }
  return problems;
}
