import { OperationError } from "@pifleet/fleet";
import { type RetryPolicy, Secret } from "@pifleet/io";
import { controlHeaders, type GitlabEmulator, startGitlabEmulator } from "@pifleet/sim";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type NotesApi, notesApi } from "./notes-api.js";
import { postMrNote } from "./post-note.js";

// Short waits so the retry tests stay quick; Retry-After still rules when GitLab sends it.
const FAST: RetryPolicy = { attempts: 4, baseDelayMs: 20, maxDelayMs: 2_000, maxRetryAfterMs: 2_000 };
// No jitter, so the waits the tests expect are exact.
const NO_JITTER = () => 1;

describe("pifleet mr note against the GitLab API emulator", () => {
  let gitlab: GitlabEmulator;
  let api: NotesApi;
  let project: string;
  const retries: Array<{ status: number | "network"; waitMs: number }> = [];

  const control = (path: string, init?: RequestInit) =>
    fetch(`${gitlab.url}/-/sim${path}`, { ...init, headers: { ...controlHeaders(gitlab.controlSecret), ...init?.headers } });
  const fault = (body: Record<string, unknown>) =>
    control("/faults", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const rawNotes = async () => {
    const res = await fetch(`${gitlab.url}/api/v4/projects/${project}/merge_requests/1/notes?per_page=100`, {
      headers: { "PRIVATE-TOKEN": gitlab.adminToken },
    });
    return (await res.json()) as Array<{ id: number; body: string }>;
  };

  beforeAll(async () => {
    gitlab = await startGitlabEmulator();
    project = String(gitlab.projectId);
    api = notesApi({
      apiUrl: `${gitlab.url}/api/v4`,
      credentials: { header: "PRIVATE-TOKEN", token: new Secret(gitlab.adminToken) },
      retry: FAST,
      random: NO_JITTER,
      onRetry: (r) => retries.push({ status: r.status, waitMs: r.waitMs }),
    });
  });
  afterAll(async () => {
    await gitlab?.close();
  });
  beforeEach(async () => {
    retries.length = 0;
    await control("/faults", { method: "DELETE" });
  });

  it("creates the note once, then later pipelines update that same note", async () => {
    const first = await postMrNote(api, { project, mr: 1, key: "plan", report: "## Plan\n1 change" });
    expect(first.action).toBe("create");
    // A person comments in between; that note is not ours.
    await fetch(`${gitlab.url}/api/v4/projects/${project}/merge_requests/1/notes`, {
      method: "POST",
      headers: { "PRIVATE-TOKEN": gitlab.adminToken, "content-type": "application/json" },
      body: JSON.stringify({ body: "looks fine" }),
    });
    const second = await postMrNote(api, { project, mr: 1, key: "plan", report: "## Plan\n2 changes" });
    expect(second).toEqual({ action: "update", noteId: first.noteId });
    const third = await postMrNote(api, { project, mr: 1, key: "plan", report: "## Plan\n2 changes" });
    expect(third).toEqual({ action: "unchanged", noteId: first.noteId });

    const notes = await rawNotes();
    const ours = notes.filter((n) => n.body.includes("<!-- pifleet:plan -->"));
    expect(ours).toHaveLength(1);
    expect(ours[0]?.body).toBe("<!-- pifleet:plan -->\n## Plan\n2 changes\n");
    expect(notes.some((n) => n.body === "looks fine")).toBe(true);
  });

  it("finds its note beyond the first page of notes", async () => {
    // 120 older notes push the new note to page 2 (100 per page, oldest first).
    for (let i = 0; i < 120; i++) await api.create(project, 1, `filler ${i}`);
    const created = await postMrNote(api, { project, mr: 1, key: "late", report: "v1" });
    expect(created.action).toBe("create");
    expect((await api.list(project, 1)).findIndex((n) => n.id === created.noteId)).toBeGreaterThanOrEqual(100);
    const updated = await postMrNote(api, { project, mr: 1, key: "late", report: "v2" });
    expect(updated).toEqual({ action: "update", noteId: created.noteId });
    expect((await api.list(project, 1)).filter((n) => n.body.includes("<!-- pifleet:late -->"))).toHaveLength(1);
  });

  it("waits as long as Retry-After says on 429, then succeeds", async () => {
    await fault({ kind: "status", status: 429, retry_after: 1, count: 2, path_prefix: "/projects" });
    const result = await postMrNote(api, { project, mr: 1, key: "rate", report: "ok" });
    expect(result.action).toBe("create");
    expect(retries).toEqual([
      { status: 429, waitMs: 1000 },
      { status: 429, waitMs: 1000 },
    ]);
  });

  it("retries 5xx with backoff and gives up after the last attempt with a clear error", async () => {
    await fault({ kind: "status", status: 503, count: 1, path_prefix: "/projects" });
    expect((await postMrNote(api, { project, mr: 1, key: "flaky", report: "ok" })).action).toBe("create");
    expect(retries).toEqual([{ status: 503, waitMs: 20 }]);

    await fault({ kind: "status", status: 502, count: FAST.attempts, path_prefix: "/projects" });
    const error = await postMrNote(api, { project, mr: 1, key: "flaky", report: "again" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OperationError);
    expect((error as Error).message).toBe(
      `GitLab GET /projects/${project}/merge_requests/1/notes?per_page=100&page=1&sort=asc&order_by=created_at: HTTP 502 after 4 attempts`,
    );
  });

  it("a refused token is an error that never contains the token", async () => {
    const secret = "glpat-not-a-real-token-0123456789";
    const bad = notesApi({
      apiUrl: `${gitlab.url}/api/v4`,
      credentials: { header: "PRIVATE-TOKEN", token: new Secret(secret) },
      retry: FAST,
    });
    const error = (await postMrNote(bad, { project, mr: 1, key: "plan", report: "x" }).catch((e: unknown) => e)) as OperationError;
    expect(error).toBeInstanceOf(OperationError);
    expect(error.message).toMatch(/HTTP 401/);
    expect(`${error.message} ${error.hint}`).not.toContain(secret);
    expect(error.hint).toBe("The token is missing, unknown or revoked: set GITLAB_TOKEN to a token with the api scope.");
  });
});
