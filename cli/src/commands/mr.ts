import { readFile } from "node:fs/promises";
import { InputError } from "@pifleet/fleet";
import { notesApi, postMrNote, resolveGitlabTarget } from "@pifleet/pipelines";
import type { Command } from "commander";
import { globals } from "../context.js";
import { info, print, printJson } from "../output.js";

function positiveInt(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InputError(`${flag} must be a positive whole number, got "${value}"`);
  return n;
}

export function registerMr(program: Command): void {
  const mr = program.command("mr").description("merge-request helpers for pipelines");
  mr.command("note")
    .description("post a report as ONE note on a merge request: the note with the same marker is updated, never duplicated")
    .requiredOption("--project <id>", "project id or URL-encoded path (in CI: $CI_PROJECT_ID)")
    .requiredOption("--mr <iid>", "merge request IID (in CI: $CI_MERGE_REQUEST_IID)")
    .requiredOption("--file <path>", "the report to post (Markdown)")
    .option("--marker <key>", "identifies the note across pipelines; one note per key", "pifleet")
    .option("--gitlab-url <url>", "GitLab base URL; default $CI_API_V4_URL or $CI_SERVER_URL")
    .addHelpText(
      "after",
      `
The token comes from the environment only: GITLAB_TOKEN (api scope), else CI_JOB_TOKEN.
It is never printed. The note starts with a hidden <!-- pifleet:KEY --> marker; the next
pipeline finds it and edits it in place. 429 and 5xx answers are retried, honouring Retry-After.

Examples:
  $ pifleet mr note --project "$CI_PROJECT_ID" --mr "$CI_MERGE_REQUEST_IID" --file plan.md --marker plan
  $ GITLAB_TOKEN=... pifleet mr note --gitlab-url https://gitlab.example.com --project 42 --mr 7 --file report.md --json`,
    )
    .action(async (opts: { project: string; mr: string; file: string; marker: string; gitlabUrl?: string }, cmd: Command) => {
      const g = globals(cmd);
      const mrIid = positiveInt(opts.mr, "--mr");
      const report = await readFile(opts.file, "utf8").catch(() => {
        throw new InputError(`cannot read the report ${opts.file}`, "Pass --file with the Markdown the previous job wrote.");
      });
      const target = resolveGitlabTarget(process.env, opts.gitlabUrl);
      const api = notesApi({
        ...target,
        onRetry: (r) =>
          info(`GitLab ${r.method} answered ${r.status}; retrying in ${Math.round(r.waitMs / 100) / 10} s (attempt ${r.attempt + 1})`),
      });
      const result = await postMrNote(api, { project: opts.project, mr: mrIid, key: opts.marker, report });
      if (g.json) printJson({ ...result, project: opts.project, mr: mrIid, marker: opts.marker });
      else
        print(
          `note ${result.noteId} on !${mrIid}: ${result.action === "create" ? "created" : result.action === "update" ? "updated" : "unchanged"}`,
        );
    });
}
