import { scrubTokens } from "@pifleet/io";
import type { Diff } from "./events.js";
import type { RunSummary } from "./recap.js";
import { unifiedDiff } from "./unified-diff.js";

export interface ReportOptions {
  /** Under --check nothing changed: the report speaks of what would change. */
  check: boolean;
  /** Secret values to mask, in addition to secret-looking assignments. */
  secrets?: readonly string[];
}

// A fence longer than any backtick run in the content, so a diff can never close its block.
function fence(content: string): string {
  const longest = Math.max(2, ...[...content.matchAll(/`+/g)].map((m) => m[0].length));
  return "`".repeat(longest + 1);
}

function renderDiff(diff: Diff, secrets: readonly string[]): string {
  const parts: string[] = [];
  if (diff.before !== undefined || diff.after !== undefined) {
    const body = unifiedDiff(diff.before ?? "", diff.after ?? "");
    if (body) {
      const header = diff.header ? `--- ${diff.header}\n+++ ${diff.header}\n` : "";
      parts.push(scrubTokens(header + body, secrets));
    }
  }
  if (diff.prepared) parts.push(scrubTokens(diff.prepared.endsWith("\n") ? diff.prepared : `${diff.prepared}\n`, secrets));
  return parts
    .map((p) => {
      const f = fence(p);
      return `${f}diff\n${p}${f}`;
    })
    .join("\n\n");
}

const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\n/g, " ");

/**
 * The merge-request view of a run: a summary table per host, then per host
 * the tasks that (would) change with their diffs, then failures. Secrets are
 * masked in every line that comes from a node or a variable.
 */
export function renderMarkdownReport(summary: RunSummary, options: ReportOptions): string {
  const secrets = options.secrets ?? [];
  const verb = options.check ? "would change" : "changed";
  const lines: string[] = [
    `## Ansible: ${options.check ? "what would change (check mode, nothing was changed)" : "what changed"}`,
    "",
    "| host | ok | changed | unreachable | failed | skipped |",
    "| --- | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const [host, r] of Object.entries(summary.hosts))
    lines.push(`| ${cell(host)} | ${r.ok} | ${r.changed} | ${r.unreachable} | ${r.failed} | ${r.skipped} |`);
  for (const host of Object.keys(summary.hosts)) {
    const changes = summary.changes.filter((c) => c.host === host);
    const failures = summary.failures.filter((f) => f.host === host);
    const ignored = summary.ignored.filter((f) => f.host === host);
    lines.push("", `### ${host}`, "");
    if (changes.length === 0 && failures.length === 0 && ignored.length === 0) lines.push(`Nothing ${verb}.`);
    for (const c of changes) {
      lines.push(`- **${cell(scrubTokens(c.task, secrets))}** (${c.action}) ${verb}`);
      const diffs = c.diffs.map((d) => renderDiff(d, secrets)).filter(Boolean);
      if (diffs.length > 0) lines.push("", ...diffs, "");
    }
    // Why a step could not run is often a paragraph (a missing Python library): its first line is enough here.
    const brief = (m: string) => (m.length > 200 ? `${m.slice(0, 197)}...` : m);
    for (const f of ignored)
      lines.push(
        `- _${options.check ? "could not be previewed" : "failed, ignored"}_: ${cell(scrubTokens(f.task, secrets))}: ${cell(scrubTokens(brief(f.message), secrets))}`,
      );
    for (const f of failures)
      lines.push(
        `- ${f.status === "unreachable" ? "**unreachable**" : "**failed**"}: ${cell(scrubTokens(f.task, secrets))}: ${cell(scrubTokens(f.message, secrets))}`,
      );
  }
  return `${lines.join("\n").replace(/\n{3,}/g, "\n\n")}\n`;
}
