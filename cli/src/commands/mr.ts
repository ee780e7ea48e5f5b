import type { Command } from "commander";
import type { NoteFlags } from "./mr-actions.js";

const actions = () => import("./mr-actions.js");

export function registerMr(program: Command): void {
  const mr = program.command("mr").description("merge-request helpers for pipelines");
  mr.command("note")
    .description("post a report as ONE note on a merge request: the note with the same marker is updated, never duplicated")
    .requiredOption("--project <id>", "project id or URL-encoded path (in CI: $CI_PROJECT_ID)")
    .requiredOption("--mr <iid>", "merge request IID (in CI: $CI_MERGE_REQUEST_IID)")
    .requiredOption("--file <path>", "the report to post (Markdown)")
    .option("--marker <key>", "identifies the note across pipelines; one note per key", "pifleet")
    .option("--gitlab-url <url>", "GitLab base URL; default $CI_API_V4_URL or $CI_SERVER_URL")
    .option("--token-env <name>", "the variable holding the token (the pipeline: PIFLEET_NOTE_TOKEN, a Reporter project access token)")
    .addHelpText(
      "after",
      `
The token comes from the environment only: the variable --token-env names, else the one the fleet's
gitlab.tokenEnv names (GITLAB_TOKEN by default; api scope); never CI_JOB_TOKEN, which cannot post
notes: an unset or empty variable is an environment error (exit 3).
It is never printed. The note starts with a hidden <!-- pifleet:KEY --> marker; the next
pipeline finds it and edits it in place. 429 and 5xx answers are retried, honouring Retry-After.

Examples:
  $ pifleet mr note --project "$CI_PROJECT_ID" --mr "$CI_MERGE_REQUEST_IID" --file plan.md --marker plan
  $ GITLAB_TOKEN=... pifleet mr note --gitlab-url https://gitlab.example.com --project 42 --mr 7 --file report.md --json`,
    )
    .action(async (opts: NoteFlags, cmd: Command) => (await actions()).note(opts, cmd));
}
