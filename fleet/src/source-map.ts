import { type Document, isMap, isNode, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument } from "yaml";
import type { Diagnostic } from "./errors.js";

export type PathSegment = string | number;

/** A parsed YAML file that can answer "where in the file is this path?". */
export interface LocatedYaml {
  file: string;
  doc: Document.Parsed;
  lines: LineCounter;
  /** YAML syntax errors, already located. */
  syntaxErrors: Diagnostic[];
}

export function parseLocatedYaml(text: string, file: string): LocatedYaml {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const syntaxErrors = [...doc.errors].map((e) => {
    const pos = lines.linePos(e.pos[0]);
    return { file, line: pos.line, col: pos.col, message: e.message.split("\n")[0] ?? e.message, path: "" };
  });
  return { file, doc, lines, syntaxErrors };
}

export function formatPath(path: readonly PathSegment[]): string {
  let out = "";
  for (const seg of path) out += typeof seg === "number" ? `[${seg}]` : out === "" ? seg : `.${seg}`;
  return out;
}

/**
 * Locates a path: the value's node, or for `key` mode the key itself (where an
 * unknown key should be reported). Falls back to the closest existing parent,
 * so a missing key is reported at the map that lacks it.
 */
export function locate(y: LocatedYaml, path: readonly PathSegment[], mode: "value" | "key" = "value"): { line: number; col: number } {
  let node: unknown = y.doc.contents;
  let offset = (y.doc.contents as Node | null)?.range?.[0] ?? 0;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === seg);
      if (!pair) break;
      const keyNode = pair.key as Node;
      if (mode === "key" && seg === path[path.length - 1]) {
        offset = keyNode.range?.[0] ?? offset;
        node = undefined;
        break;
      }
      node = pair.value;
      offset = isNode(node) ? (node.range?.[0] ?? keyNode.range?.[0] ?? offset) : (keyNode.range?.[0] ?? offset);
    } else if (isSeq(node) && typeof seg === "number") {
      const item = node.items[seg];
      if (!isNode(item)) break;
      node = item;
      offset = item.range?.[0] ?? offset;
    } else {
      break;
    }
  }
  return y.lines.linePos(offset);
}

export function diagnosticAt(y: LocatedYaml, path: readonly PathSegment[], message: string, mode: "value" | "key" = "value"): Diagnostic {
  const { line, col } = locate(y, path, mode);
  return { file: y.file, line, col, message, path: formatPath(path) };
}
