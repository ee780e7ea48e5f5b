/**
 * Masked CI/CD variable values replaced in a job's trace as it streams, the way gitlab-runner
 * masks them before a trace leaves the runner. A value may arrive split across two output chunks,
 * so the end of each chunk that could still be the start of a value is held back until the next
 * chunk (or the end) shows what follows. Pure: output goes to `emit`.
 */

/** What GitLab shows in place of a masked value. */
export const MASKED = "[MASKED]";

export interface MaskingStream {
  /** One chunk of output; whatever can no longer be part of a masked value is emitted. */
  write(chunk: string): void;
  /** The end of the output: emits what was held back. */
  end(): void;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

export function maskingStream(values: readonly string[], emit: (text: string) => void): MaskingStream {
  // Longest first, so a value that contains a shorter one is masked whole.
  const distinct = [...new Set(values.filter((v) => v.length > 0))].sort((a, b) => b.length - a.length);
  if (distinct.length === 0) return { write: (chunk) => chunk && emit(chunk), end: () => {} };
  const pattern = new RegExp(distinct.map(escapeRegExp).join("|"), "g");
  const hold = (distinct[0]?.length ?? 1) - 1;
  let carry = "";

  const write = (chunk: string) => {
    const text = carry + chunk;
    // Everything before `cut` is final: no value starting there can reach past the end of `text`.
    let cut = Math.max(0, text.length - hold);
    let out = "";
    let from = 0;
    for (const m of text.matchAll(pattern)) {
      const start = m.index ?? 0;
      if (start >= cut) break;
      if (start + m[0].length > cut) {
        // A value straddles the cut: keep all of it for the next round.
        cut = start;
        break;
      }
      out += text.slice(from, start) + MASKED;
      from = start + m[0].length;
    }
    out += text.slice(from, Math.max(from, cut));
    carry = text.slice(Math.max(from, cut));
    if (out) emit(out);
  };

  return {
    write,
    end: () => {
      const rest = carry.replace(pattern, MASKED);
      carry = "";
      if (rest) emit(rest);
    },
  };
}
