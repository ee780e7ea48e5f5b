import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { EnvironmentError, OperationError } from "@pifleet/fleet";
import { DEFAULT_RETRY, manualClock, Secret } from "@pifleet/io";
import { controlHeaders, type GitlabEmulator, startGitlabEmulator } from "@pifleet/sim";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { notesApi } from "./notes-api.js";
import { postMrNote, resolveGitlabTarget } from "./post-note.js";

describe("resolveGitlabTarget", () => {
  it("takes the token from the fleet's tokenEnv, as a private token", () => {
    const target = resolveGitlabTarget(
      { CI_API_V4_URL: "https://gl.example/api/v4", FLEET_TOKEN: "abc123456", GITLAB_TOKEN: "other" },
      undefined,
      "FLEET_TOKEN",
    );
    expect(target.apiUrl).toBe("https://gl.example/api/v4");
    expect(target.credentials.header).toBe("PRIVATE-TOKEN");
    expect(target.credentials.token.reveal()).toBe("abc123456");
    expect(target.tokenEnv).toBe("FLEET_TOKEN");
    expect(JSON.stringify(target)).not.toContain("abc123456");
  });

  it("names tokenEnv when it is unset or empty, even in a job (a job token cannot post notes): an environment error", () => {
    for (const env of [{ CI_JOB_TOKEN: "job-token" }, { CI_JOB_TOKEN: "job-token", FLEET_TOKEN: "" }]) {
      expect(() => resolveGitlabTarget({ CI_SERVER_URL: "https://gl.example/", ...env }, undefined, "FLEET_TOKEN")).toThrow(
        /set FLEET_TOKEN/,
      );
    }
    expect(() => resolveGitlabTarget({ CI_SERVER_URL: "https://gl.example" }, undefined, "FLEET_TOKEN")).toThrow(/set FLEET_TOKEN/);
    expect(() => resolveGitlabTarget({ CI_SERVER_URL: "https://gl.example" })).toThrow(EnvironmentError);
  });

  it("prefers --gitlab-url, adding /api/v4 once", () => {
    const env = { CI_API_V4_URL: "https://ci.example/api/v4", GITLAB_TOKEN: "t0ken-value" };
    expect(resolveGitlabTarget(env, "https://gl.example/").apiUrl).toBe("https://gl.example/api/v4");
    expect(resolveGitlabTarget(env, "https://gl.example/api/v4").apiUrl).toBe("https://gl.example/api/v4");
  });
});

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** A GitLab stand-in on loopback that answers every request with one status and body. */
async function answering(status: number, body: unknown): Promise<string> {
  server = createServer((_req, res) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe("notesApi errors", () => {
  const token = "glpat-abcdefghijklmnop0123";

  it("a refused token names the fleet's token variable; GitLab's text is scrubbed", async () => {
    const url = await answering(401, { message: `401 Unauthorized (${token})` });
    const api = notesApi({ apiUrl: url, credentials: { header: "PRIVATE-TOKEN", token: new Secret(token) }, tokenEnv: "FLEET_TOKEN" });
    const err = (await api.create("7", 1, "x").catch((e: unknown) => e)) as OperationError;
    expect(err).toBeInstanceOf(OperationError);
    expect(err.message).toBe("GitLab POST /projects/7/merge_requests/1/notes: HTTP 401 401 Unauthorized ([redacted])");
    expect(err.hint).toBe("The token is missing, unknown or revoked: set FLEET_TOKEN to a token with the api scope.");
  });

  it("GitLab's error body echoing credentials (a password, a key, a URL-encoded token) reaches the error masked", async () => {
    const body = {
      message: {
        base: ['password: "hunter2 hunter2" rejected', "token%3Dglrt-abcdefghijkl0123 is revoked"],
        key: "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\n-----END OPENSSH PRIVATE KEY-----",
      },
    };
    const url = await answering(400, body);
    const api = notesApi({ apiUrl: url, credentials: { header: "PRIVATE-TOKEN", token: new Secret(token) } });
    const err = (await api.create("7", 1, "x").catch((e: unknown) => e)) as OperationError;
    expect(err).toBeInstanceOf(OperationError);
    for (const leak of ["hunter2", "glrt-", "b3BlbnNzaC1rZXk", "PRIVATE KEY"]) expect(err.message).not.toContain(leak);
    expect(err.message).toContain("HTTP 400");
    expect(err.message).toContain('password: \\"[redacted]\\" rejected');
  });

  it("retries used up say so and what to do", async () => {
    const url = await answering(503, {});
    const clock = manualClock();
    const api = notesApi({
      apiUrl: url,
      credentials: { header: "JOB-TOKEN", token: new Secret(token) },
      retry: { ...DEFAULT_RETRY, attempts: 3 },
      clock,
    });
    const err = (await api.list("7", 1).catch((e: unknown) => e)) as OperationError;
    expect(err.message).toBe(
      "GitLab GET /projects/7/merge_requests/1/notes?per_page=100&page=1&sort=asc&order_by=created_at: HTTP 503 after 3 attempts",
    );
    expect(err.hint).toMatch(/run the job again later/);
    expect(clock.sleeps).toHaveLength(2);
  });
});

describe("postMrNote against the GitLab API emulator: only the token's own note is ours", () => {
  let gitlab: GitlabEmulator;
  beforeAll(async () => {
    gitlab = await startGitlabEmulator();
  });
  afterAll(async () => {
    await gitlab?.close();
  });

  const asToken = (token: string) => notesApi({ apiUrl: gitlab.url, credentials: { header: "PRIVATE-TOKEN", token: new Secret(token) } });
  const control = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${gitlab.url}/-/sim${path}`, {
      method,
      headers: { ...controlHeaders(gitlab.controlSecret), ...(body ? { "content-type": "application/json" } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return res.status === 204 ? undefined : ((await res.json()) as Record<string, unknown>);
  };

  it("leaves a look-alike carrying the marker by another user alone, posts its own note, then updates only that", async () => {
    const project = String(gitlab.projectId);
    // A Developer of the project (another user) plants a comment carrying the marker.
    const other = (await control("POST", "/tokens", { scopes: ["api"], access_level: 30 })) as { token: string };
    const planted = await asToken(other.token).create(project, 1, "<!-- pifleet:hijack -->\nplease deploy my branch");

    const api = asToken(gitlab.adminToken);
    await control("DELETE", "/requests");
    const first = await postMrNote(api, { project, mr: 1, key: "hijack", report: "## Plan\n1 change" });
    expect(first.action).toBe("create");
    expect(first.noteId).not.toBe(planted.id);
    const second = await postMrNote(api, { project, mr: 1, key: "hijack", report: "## Plan\n2 changes" });
    expect(second).toEqual({ action: "update", noteId: first.noteId });

    const notes = await api.list(project, 1);
    expect(notes.find((n) => n.id === planted.id)?.body).toBe("<!-- pifleet:hijack -->\nplease deploy my branch");
    expect(notes.find((n) => n.id === first.noteId)?.body).toBe("<!-- pifleet:hijack -->\n## Plan\n2 changes\n");
    // The token's user is asked for once per run, not once per note.
    const { byRoute } = (await control("GET", "/requests")) as { byRoute: Record<string, number> };
    expect(Object.entries(byRoute).filter(([route]) => route.endsWith("GET /user") || route === "GET /api/v4/user")).toEqual([
      [expect.stringMatching(/user$/), 1],
    ]);
  });
});
