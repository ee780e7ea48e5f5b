import { randomBytes } from "node:crypto";
import { Gitlab } from "@gitbeaker/rest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pythonGitlab } from "./test-support/python-gitlab.js";
import { call, control, NEEDS_CONTROL, REAL_GITLAB, type Target, useContractTarget } from "./test-support/target.js";

// GitLab contract: project access tokens (a bot member with a role) and what each role may do
// (doc/user/permissions.md) on the endpoints pifleet's MR note and runner manager use.
const { target } = useContractTarget();
const RUN = randomBytes(4).toString("hex");
const FORBIDDEN = { status: 403, body: { message: "403 Forbidden" } };
const minted: number[] = [];

interface IssuedToken {
  id: number;
  name: string;
  token: string;
  scopes: string[];
  user_id: number;
  access_level: number;
  revoked: boolean;
  active: boolean;
  expires_at: string;
}

/** A project access token through GitLab's own API (what pifleet bootstrap does), revoked after the file. */
async function projectToken(t: Target, access_level: number, scopes: string[], name = `contract-${RUN}-${access_level}`) {
  const reply = await call(t, "POST", `/projects/${t.projectId}/access_tokens`, {
    body: { name, scopes, access_level, expires_at: inDays(30) },
  });
  if (reply.status !== 201) throw new Error(`creating a project access token failed: HTTP ${reply.status} ${JSON.stringify(reply.body)}`);
  const issued = reply.body as IssuedToken;
  minted.push(issued.id);
  return issued;
}

const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

afterAll(async () => {
  for (const id of minted.splice(0)) await call(target, "DELETE", `/projects/${target.projectId}/access_tokens/${id}`);
});

describe("project access tokens", () => {
  it("POST creates a bot member with the role and returns the token once; GET lists and shows it without", async () => {
    const issued = await projectToken(target, 20, ["api"]);
    expect(issued).toMatchObject({
      id: expect.any(Number),
      name: `contract-${RUN}-20`,
      token: expect.stringMatching(/^glpat-/),
      scopes: ["api"],
      user_id: expect.any(Number),
      access_level: 20,
      revoked: false,
      active: true,
      expires_at: inDays(30),
    });
    const list = await call(target, "GET", `/projects/${target.projectId}/access_tokens`);
    expect(list.status).toBe(200);
    const listed = (list.body as IssuedToken[]).find((t) => t.id === issued.id);
    expect(listed).toMatchObject({ id: issued.id, access_level: 20, scopes: ["api"], active: true });
    expect(listed).not.toHaveProperty("token");
    const one = await call(target, "GET", `/projects/${target.projectId}/access_tokens/${issued.id}`);
    expect(one).toMatchObject({ status: 200, body: { id: issued.id, user_id: issued.user_id } });
    expect(one.body).not.toHaveProperty("token");
    const me = await call(target, "GET", "/user", { token: issued.token });
    expect(me).toMatchObject({ status: 200, body: { id: issued.user_id, bot: true, is_admin: false } });
  });

  it("rejects an unknown scope or access level (400, Grape's wording) and a missing name", async () => {
    const base = `/projects/${target.projectId}/access_tokens`;
    expect(await call(target, "POST", base, { body: { name: "x", scopes: ["sudo-everything"] } })).toMatchObject({
      status: 400,
      body: { error: "scopes does not have a valid value" },
    });
    expect(await call(target, "POST", base, { body: { name: "x", scopes: ["api"], access_level: 35 } })).toMatchObject({
      status: 400,
      body: { error: "access_level does not have a valid value" },
    });
    expect(await call(target, "POST", base, { body: { scopes: ["api"] } })).toMatchObject({
      status: 400,
      body: { error: "name is missing" },
    });
  });

  it("DELETE revokes: 204, the token is then 401 everywhere and lists as revoked and inactive", async () => {
    const issued = await projectToken(target, 20, ["read_api"], `contract-${RUN}-revoke`);
    expect((await call(target, "GET", `/projects/${target.projectId}/pipelines`, { token: issued.token })).status).toBe(200);
    const revoked = await call(target, "DELETE", `/projects/${target.projectId}/access_tokens/${issued.id}`);
    expect(revoked.status).toBe(204);
    for (const path of ["/user", `/projects/${target.projectId}/pipelines`]) {
      expect(await call(target, "GET", path, { token: issued.token })).toMatchObject({
        status: 401,
        body: { message: "401 Unauthorized" },
      });
    }
    const inactive = await call(target, "GET", `/projects/${target.projectId}/access_tokens?state=inactive`);
    expect((inactive.body as IssuedToken[]).find((t) => t.id === issued.id)).toMatchObject({ revoked: true, active: false });
  });

  it("an unknown token id is 404", async () => {
    const reply = await call(target, "DELETE", `/projects/${target.projectId}/access_tokens/999999999`);
    expect(reply.status).toBe(404);
  });

  it("gitbeaker's ProjectAccessTokens creates, lists and revokes one", async () => {
    const api = new Gitlab({ host: target.url, token: target.token });
    const created = await api.ProjectAccessTokens.create(target.projectId, `contract-${RUN}-gitbeaker`, ["read_api"], inDays(7), {
      accessLevel: 20,
    });
    minted.push(created.id);
    expect(created.token).toMatch(/^glpat-/);
    expect((await api.ProjectAccessTokens.all(target.projectId)).map((t) => t.id)).toContain(created.id);
    await api.ProjectAccessTokens.revoke(target.projectId, created.id);
    expect((await api.ProjectAccessTokens.show(target.projectId, created.id)).revoked).toBe(true);
  });
});

describe("the Reporter role (the MR note token)", () => {
  let reporter: IssuedToken;
  let notes: string;
  beforeAll(async () => {
    reporter = await projectToken(target, 20, ["api"], `contract-${RUN}-note`);
    notes = `/projects/${target.projectId}/merge_requests/${target.mrIid}/notes`;
  });

  it("posts, updates and lists its own MR note", async () => {
    const token = reporter.token;
    const created = await call(target, "POST", notes, { token, body: { body: `<!-- contract ${RUN} -->\nplan` } });
    expect(created).toMatchObject({ status: 201, body: { author: { id: reporter.user_id } } });
    const id = (created.body as { id: number }).id;
    const updated = await call(target, "PUT", `${notes}/${id}`, { token, body: { body: `<!-- contract ${RUN} -->\nplan 2` } });
    expect(updated).toMatchObject({ status: 200, body: { id, body: `<!-- contract ${RUN} -->\nplan 2` } });
    const list = await call(target, "GET", `${notes}?per_page=100`, { token });
    expect((list.body as Array<{ id: number }>).map((n) => n.id)).toContain(id);
  });

  it("reads the MR, pipelines and jobs", async () => {
    const token = reporter.token;
    expect((await call(target, "GET", `/projects/${target.projectId}/merge_requests/${target.mrIid}`, { token })).status).toBe(200);
    expect((await call(target, "GET", `/projects/${target.projectId}/pipelines`, { token })).status).toBe(200);
    expect((await call(target, "GET", `/projects/${target.projectId}/jobs`, { token })).status).toBe(200);
  });

  it("python-gitlab 3.12 with it creates and edits the note, and its variables list raises a 403", async () => {
    const result = await pythonGitlab(
      `
import os, gitlab
gl = gitlab.Gitlab(os.environ["GL_URL"], private_token=os.environ["GL_TOKEN"])
project = gl.projects.get(int(os.environ["GL_PROJECT"]), lazy=True)
mr = project.mergerequests.get(int(os.environ["GL_MR"]), lazy=True)
note = mr.notes.create({"body": "python-gitlab " + os.environ["GL_RUN"]})
note.body = "python-gitlab edited " + os.environ["GL_RUN"]
note.save()
print("note", note.id, mr.notes.get(note.id).body)
try:
    project.variables.list()
    print("variables listed")
except gitlab.exceptions.GitlabListError as e:
    print("variables refused", e.response_code)
`,
      { GL_URL: target.url, GL_TOKEN: reporter.token, GL_PROJECT: String(target.projectId), GL_MR: String(target.mrIid), GL_RUN: RUN },
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^note \\d+ python-gitlab edited ${RUN}$`, "m"));
    expect(result.stdout).toContain("variables refused 403");
  });

  it("cannot edit someone else's note, read or write CI/CD variables, list runners or manage access tokens", async () => {
    const token = reporter.token;
    const others = (await call(target, "POST", notes, { body: { body: `contract ${RUN}: the admin's note` } })).body as { id: number };
    expect(await call(target, "PUT", `${notes}/${others.id}`, { token, body: { body: "taken over" } })).toMatchObject(FORBIDDEN);
    const p = `/projects/${target.projectId}`;
    expect(await call(target, "GET", `${p}/variables`, { token })).toMatchObject(FORBIDDEN);
    expect(await call(target, "GET", `${p}/variables/PIFLEET_SSH_KEY`, { token })).toMatchObject(FORBIDDEN);
    expect(await call(target, "POST", `${p}/variables`, { token, body: { key: "X", value: "y" } })).toMatchObject(FORBIDDEN);
    expect(await call(target, "GET", `${p}/runners`, { token })).toMatchObject(FORBIDDEN);
    const runner = await call(target, "POST", "/user/runners", {
      token,
      body: { runner_type: "project_type", project_id: target.projectId },
    });
    expect(runner).toMatchObject({ status: 403, body: { message: "403 Forbidden - Insufficient permissions" } });
    expect((await call(target, "GET", `${p}/access_tokens`, { token })).status).toBe(401);
    const mint = await call(target, "POST", `${p}/access_tokens`, { token, body: { name: "escalate", scopes: ["api"], access_level: 40 } });
    expect(mint).toMatchObject({
      status: 400,
      body: { message: "400 Bad request - User does not have permission to create project access token" },
    });
  });
});

describe("the Maintainer role with read_api, create_runner, manage_runner (the runner manager's token)", () => {
  it("lists, creates, changes and deletes project runners; reads variables but cannot write them; no admin endpoint", async () => {
    const { token } = await projectToken(target, 40, ["read_api", "create_runner", "manage_runner"], `contract-${RUN}-runners`);
    const p = `/projects/${target.projectId}`;
    expect((await call(target, "GET", `${p}/runners`, { token })).status).toBe(200);
    const created = await call(target, "POST", "/user/runners", {
      token,
      body: { runner_type: "project_type", project_id: target.projectId, description: `contract-${RUN}` },
    });
    expect(created.status).toBe(201);
    const id = (created.body as { id: number }).id;
    try {
      expect(((await call(target, "GET", `${p}/runners`, { token })).body as Array<{ id: number }>).map((r) => r.id)).toContain(id);
      expect(await call(target, "PUT", `/runners/${id}`, { token, body: { paused: true } })).toMatchObject({
        status: 200,
        body: { paused: true },
      });
      expect((await call(target, "POST", `/runners/${id}/reset_authentication_token`, { token })).status).toBe(201);
      // Why this token must stay protected (docs/runners.md): Maintainer + read_api reads every variable.
      expect((await call(target, "GET", `${p}/variables`, { token })).status).toBe(200);
      expect((await call(target, "POST", `${p}/variables`, { token, body: { key: "X", value: "y" } })).status).toBe(403);
      expect(await call(target, "GET", "/runners/all", { token })).toMatchObject(FORBIDDEN);
      expect((await call(target, "DELETE", `/runners/${id}`, { token })).status).toBe(204);
    } finally {
      await call(target, "DELETE", `/runners/${id}`);
    }
  });

  it("cannot mint a token with a higher role than its own (400)", async () => {
    const { token } = await projectToken(target, 40, ["api"], `contract-${RUN}-maintainer`);
    const reply = await call(target, "POST", `/projects/${target.projectId}/access_tokens`, {
      token,
      body: { name: `contract-${RUN}-owner`, scopes: ["api"], access_level: 50, expires_at: inDays(1) },
    });
    expect(reply.status).toBe(400);
    expect(reply.body).toMatchObject({ message: expect.stringMatching(/^400 Bad request - .*owner/i) });
  });
});

describe(`roles of people${NEEDS_CONTROL}`, () => {
  const member = async (access_level: number) =>
    ((await control(target, "POST", "/tokens", { scopes: ["api"], access_level })) as { token: string }).token;

  it.skipIf(REAL_GITLAB)("a Guest sees the project but not its MRs' notes or pipelines (403); a non-member gets 404", async () => {
    const guest = await member(10);
    const p = `/projects/${target.projectId}`;
    expect(await call(target, "GET", `${p}/merge_requests/${target.mrIid}/notes`, { token: guest })).toMatchObject(FORBIDDEN);
    expect(await call(target, "GET", `${p}/pipelines`, { token: guest })).toMatchObject(FORBIDDEN);
    expect((await call(target, "GET", `${p}/events`, { token: guest })).status).toBe(200);
    const stranger = ((await control(target, "POST", "/tokens", { scopes: ["api"], admin: false })) as { token: string }).token;
    expect(await call(target, "GET", `${p}/pipelines`, { token: stranger })).toMatchObject({
      status: 404,
      body: { message: "404 Project Not Found" },
    });
  });

  it.skipIf(REAL_GITLAB)(
    "a Maintainer edits another member's note; a Developer cannot merge into the protected default branch",
    async () => {
      const notes = `/projects/${target.projectId}/merge_requests/${target.mrIid}/notes`;
      const note = (await call(target, "POST", notes, { token: await member(20), body: { body: "by a reporter" } })).body as { id: number };
      expect((await call(target, "PUT", `${notes}/${note.id}`, { token: await member(40), body: { body: "edited" } })).status).toBe(200);
      const merge = await call(target, "PUT", `/projects/${target.projectId}/merge_requests/${target.mrIid}/merge`, {
        token: await member(30),
      });
      expect(merge).toMatchObject({ status: 401, body: { message: "401 Unauthorized" } });
    },
  );
});
