import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { InputError } from "@pifleet/fleet";
import { notesApi, postMrNote, resolveGitlabTarget } from "@pifleet/pipelines";
import type { Command } from "commander";
import { fleetGiven, globals, loadFleet } from "../context.js";
import { info, print, printJson } from "../output.js";

export interface NoteFlags {
  project: string;
  mr: string;
  file: string;
  marker: string;
  gitlabUrl?: string;
  tokenEnv?: string;
}

function positiveInt(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InputError(`${flag} must be a positive whole number, got "${value}"`);
  return n;
}

/**
 * The fleet's gitlab.tokenEnv when a fleet is given: --fleet, PIFLEET_FLEET, or a fleet.yaml in
 * the working directory (where the generated pipeline runs `mr note`). Without one, GITLAB_TOKEN.
 */
async function fleetTokenEnv(cmd: Command): Promise<string | undefined> {
  if (!fleetGiven(cmd) && !existsSync(globals(cmd).fleet)) return undefined;
  return (await loadFleet(cmd)).fleet.gitlab.tokenEnv;
}

export async function note(opts: NoteFlags, cmd: Command): Promise<void> {
  const g = globals(cmd);
  const mrIid = positiveInt(opts.mr, "--mr");
  const report = await readFile(opts.file, "utf8").catch(() => {
    throw new InputError(`cannot read the report ${opts.file}`, "Pass --file with the Markdown the previous job wrote.");
  });
  const target = resolveGitlabTarget(process.env, opts.gitlabUrl, opts.tokenEnv ?? (await fleetTokenEnv(cmd)));
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
}
