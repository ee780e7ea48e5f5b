import { EnvironmentError } from "@pifleet/fleet";
import { type GitlabAuth, gitlabApiUrl, Secret } from "@pifleet/io";
import { decideNote } from "./marker.js";
import type { NotesApi } from "./notes-api.js";

export interface PostNoteInput {
  project: string;
  mr: number;
  /** Identifies the note across pipelines, e.g. "plan". */
  key: string;
  report: string;
}

export interface PostNoteResult {
  action: "create" | "update" | "unchanged";
  noteId: number;
}

/**
 * Finds the note carrying the marker that the token's own user wrote and updates it, or creates it:
 * one note per MR and key, never a duplicate, never someone else's look-alike.
 */
export async function postMrNote(api: NotesApi, input: PostNoteInput): Promise<PostNoteResult> {
  const self = await api.self();
  const decision = decideNote(await api.list(input.project, input.mr), input.key, input.report, self.id);
  switch (decision.action) {
    case "create":
      return { action: "create", noteId: (await api.create(input.project, input.mr, decision.body)).id };
    case "update":
      await api.update(input.project, input.mr, decision.noteId, decision.body);
      return { action: "update", noteId: decision.noteId };
    case "unchanged":
      return { action: "unchanged", noteId: decision.noteId };
  }
}

/**
 * Where to post and with which token, from the environment GitLab CI provides:
 * CI_API_V4_URL (or CI_SERVER_URL), the token in `tokenEnv` (the fleet's
 * gitlab.tokenEnv; GITLAB_TOKEN by default); never CI_JOB_TOKEN, which cannot post notes.
 * `gitlabUrl` (e.g. from --gitlab-url) wins over the environment.
 */
export function resolveGitlabTarget(
  env: NodeJS.ProcessEnv,
  gitlabUrl?: string,
  tokenEnv = "GITLAB_TOKEN",
): { apiUrl: string; credentials: GitlabAuth; tokenEnv: string } {
  const apiUrl = gitlabUrl
    ? gitlabApiUrl(gitlabUrl)
    : (env.CI_API_V4_URL ?? (env.CI_SERVER_URL ? gitlabApiUrl(env.CI_SERVER_URL) : undefined));
  if (!apiUrl) {
    throw new EnvironmentError("no GitLab URL: pass --gitlab-url, or run in GitLab CI (CI_API_V4_URL)");
  }
  const token = env[tokenEnv];
  if (token) return { apiUrl, credentials: { header: "PRIVATE-TOKEN", token: new Secret(token) }, tokenEnv };
  // No fallback to CI_JOB_TOKEN: GitLab lets a job token read some of a project, never write a note.
  throw new EnvironmentError(
    `no GitLab token: set ${tokenEnv} (a project access token with the api scope; in CI a masked variable)`,
    "The token is read from the environment only, never from a flag or a file, so it cannot leak into logs.",
  );
}
