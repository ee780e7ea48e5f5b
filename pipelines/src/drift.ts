/** How a committed generated file differs from what the code generates now. */
export interface Drift {
  upToDate: boolean;
  /** First differing line (1-based) in each text. */
  firstDifference?: { committedLine: number; generatedLine: number };
  /** Lines only in the committed file / only in the generated text, over the differing region. */
  removed: number;
  added: number;
  /** A short diff of the differing region: "-" committed, "+" generated. */
  excerpt: string[];
}

const EXCERPT_LINES = 12;

/**
 * Compares line by line: the common head and tail are trimmed and the rest is
 * the differing region. Enough to tell a person what changed; the fix is
 * always to regenerate, never to edit by hand.
 */
export function compareGenerated(committed: string | undefined, generated: string): Drift {
  if (committed === generated) return { upToDate: true, removed: 0, added: 0, excerpt: [] };
  const a = committed === undefined ? [] : committed.split("\n");
  const b = generated.split("\n");
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const removedLines = a.slice(head, a.length - tail);
  const addedLines = b.slice(head, b.length - tail);
  const excerpt = [
    ...removedLines.slice(0, EXCERPT_LINES / 2).map((l) => `-${l}`),
    ...addedLines.slice(0, EXCERPT_LINES / 2).map((l) => `+${l}`),
  ];
  return {
    upToDate: false,
    firstDifference: { committedLine: head + 1, generatedLine: head + 1 },
    removed: removedLines.length,
    added: addedLines.length,
    excerpt,
  };
}
