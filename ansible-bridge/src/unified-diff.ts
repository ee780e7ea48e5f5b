/** One line of an edit script: kept, removed (before only) or added (after only). */
type Edit = { op: " " | "-" | "+"; line: string };

function splitLines(text: string): string[] {
  if (text === "") return [];
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/** Line edit script by longest common subsequence; config files are small, so O(n·m) is fine. */
function editScript(a: string[], b: string[]): Edit[] {
  const n = a.length;
  const m = b.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      (lcs[i] as number[])[j] = a[i] === b[j] ? (lcs[i + 1]?.[j + 1] ?? 0) + 1 : Math.max(lcs[i + 1]?.[j] ?? 0, lcs[i]?.[j + 1] ?? 0);
  const out: Edit[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      out.push({ op: " ", line: a[i++] as string });
      j++;
    } else if ((lcs[i + 1]?.[j] ?? 0) >= (lcs[i]?.[j + 1] ?? 0)) out.push({ op: "-", line: a[i++] as string });
    else out.push({ op: "+", line: b[j++] as string });
  }
  while (i < n) out.push({ op: "-", line: a[i++] as string });
  while (j < m) out.push({ op: "+", line: b[j++] as string });
  return out;
}

/**
 * A unified diff (as `diff -u` prints it, without the file header lines) of
 * two texts, with `context` unchanged lines around each change. Empty when equal.
 */
export function unifiedDiff(before: string, after: string, context = 3): string {
  const edits = editScript(splitLines(before), splitLines(after));
  const changed = edits.map((e, k) => (e.op === " " ? -1 : k)).filter((k) => k >= 0);
  if (changed.length === 0) return "";
  // Group changes whose context windows touch into hunks.
  const hunks: Array<[number, number]> = [];
  for (const k of changed) {
    const last = hunks[hunks.length - 1];
    if (last && k - context <= last[1] + context + 1) last[1] = k;
    else hunks.push([k, k]);
  }
  const out: string[] = [];
  for (const [first, lastChange] of hunks) {
    const start = Math.max(0, first - context);
    const end = Math.min(edits.length - 1, lastChange + context);
    const slice = edits.slice(start, end + 1);
    const beforeStart = edits.slice(0, start).filter((e) => e.op !== "+").length;
    const afterStart = edits.slice(0, start).filter((e) => e.op !== "-").length;
    const beforeLen = slice.filter((e) => e.op !== "+").length;
    const afterLen = slice.filter((e) => e.op !== "-").length;
    out.push(`@@ -${beforeStart + (beforeLen ? 1 : 0)},${beforeLen} +${afterStart + (afterLen ? 1 : 0)},${afterLen} @@`);
    for (const e of slice) out.push(`${e.op}${e.line}`);
  }
  return `${out.join("\n")}\n`;
}
