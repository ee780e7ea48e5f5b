import { randomBytes } from "node:crypto";
import { Gitlab } from "@gitbeaker/rest";
import { afterAll, describe, expect, it } from "vitest";
import { call, control, NEEDS_CONTROL, REAL_GITLAB, type Target, useContractTarget } from "./test-support/target.js";

// GitLab contract: group access tokens (a bot member of the group) and the group roles pifleet's
// runner manager relies on (lib/api/ci/runners.rb, doc/api/group_access_tokens.md): a group's Owner
// lists and manages its group runners and, as Owner of the group's projects by inheritance, their
// project runners; a group Maintainer manages project runners but not group runners.
const { target } = useContractTarget();
const RUN = randomBytes(4).toString("hex");
const FORBIDDEN = { status: 403, body: { message: "403 Forbidden" } };
const RUNNER_SCOPES = ["read_api", "create_runner", "manage_runner"];
const tokens: number[] = [];
const runnerIds: number[] = [];

const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

interface GroupToken {
  id: number;
  token: string;
  user_id: number;
  access_level: number;
  scopes: string[];
}

/** A group access token through GitLab's own API, revoked after the file. */
async function groupToken(t: Target, access_level: number, scopes = RUNNER_SCOPES): Promise<GroupToken> {
  const reply = await call(t, "POST", `/groups/${t.groupId}/access_tokens`, {
    body: { name: `contract-${RUN}-group-${access_level}`, scopes, access_level, expires_at: inDays(30) },
  });
  if (reply.status !== 201) throw new Error(`creating a group access token failed: HTTP ${reply.status} ${JSON.stringify(reply.body)}`);
  const issued = reply.body as GroupToken;
  tokens.push(issued.id);
  return issued;
}

/** POST /user/runners as this token; the runner is deleted (by the admin) after the file. */
async function createRunner(token: string, fields: Record<string, unknown>) {
  const reply = await call(target, "POST", "/user/runners", { token, body: { description: `contract ${RUN}`, ...fields } });
  if (reply.status === 201) runnerIds.push((reply.body as { id: number }).id);
  return reply as { status: number; body: { id: number } & Record<string, unknown> };
}

afterAll(async () => {
  for (const id of runnerIds.splice(0)) await call(target, "DELETE", `/runners/${id}`);
  for (const id of tokens.splice(0)) await call(target, "DELETE", `/groups/${target.groupId}/access_tokens/${id}`);
});

describe("group access tokens", () => {
  it("POST creates a bot member of the group with the role and shows the token once; GET lists and shows it without; DELETE revokes", async () => {
    const issued = await groupToken(target, 30, ["read_api"]);
    expect(issued).toMatchObject({ token: expect.stringMatching(/^glpat-/), access_level: 30, scopes: ["read_api"] });
    const me = await call(target, "GET", "/user", { token: issued.token });
    expect(me).toMatchObject({ status: 200, body: { id: issued.user_id, bot: true, is_admin: false } });
    expect((me.body as { username: string }).username).toMatch(new RegExp(`^group_${target.groupId}_bot_`));
    const list = await call(target, "GET", `/groups/${target.groupId}/access_tokens`);
    const listed = (list.body as GroupToken[]).find((t) => t.id === issued.id);
    expect(listed).toMatchObject({ id: issued.id, access_level: 30, active: true });
    expect(listed).not.toHaveProperty("token");
    expect(await call(target, "GET", `/groups/${target.groupId}/access_tokens/${issued.id}`)).toMatchObject({
      status: 200,
      body: { id: issued.id, user_id: issued.user_id },
    });
    // A group member reads the group's projects: a Developer lists pipelines of a project.
    expect((await call(target, "GET", `/projects/${target.projectId}/pipelines`, { token: issued.token })).status).toBe(200);
    expect((await call(target, "DELETE", `/groups/${target.groupId}/access_tokens/${issued.id}`)).status).toBe(204);
    expect(await call(target, "GET", "/user", { token: issued.token })).toMatchObject({ status: 401 });
  });

  it("gitbeaker's GroupAccessTokens creates, lists, shows and revokes one", async () => {
    const api = new Gitlab({ host: target.url, token: target.token });
    const created = await api.GroupAccessTokens.create(target.groupId, `contract-${RUN}-gitbeaker`, ["read_api"], inDays(7), {
      accessLevel: 50,
    });
    tokens.push(created.id);
    expect(created.token).toMatch(/^glpat-/);
    expect((await api.GroupAccessTokens.all(target.groupId)).map((t) => t.id)).toContain(created.id);
    await api.GroupAccessTokens.revoke(target.groupId, created.id);
    expect((await api.GroupAccessTokens.show(target.groupId, created.id)).revoked).toBe(true);
  });

  it("only the group's Owner manages them: a Maintainer's token gets 401 on GET and 400 on POST", async () => {
    const maintainer = await groupToken(target, 40, ["api"]);
    const base = `/groups/${target.groupId}/access_tokens`;
    expect((await call(target, "GET", base, { token: maintainer.token })).status).toBe(401);
    expect(
      await call(target, "POST", base, { token: maintainer.token, body: { name: "x", scopes: ["read_api"], access_level: 30 } }),
    ).toMatchObject({ status: 400, body: { message: "400 Bad request - User does not have permission to create group access token" } });
  });
});

describe("the group Owner role (a group access token with access_level 50)", () => {
  it("creates, lists and manages the group's runners, and project runners of its projects", async () => {
    const owner = await groupToken(target, 50);
    const group = await createRunner(owner.token, { runner_type: "group_type", group_id: target.groupId });
    expect(group.status).toBe(201);
    const listed = await call(target, "GET", `/groups/${target.groupId}/runners?type=group_type&per_page=100`, { token: owner.token });
    expect(listed.status).toBe(200);
    expect((listed.body as { id: number }[]).map((r) => r.id)).toContain(group.body.id);
    const owned = await call(target, "GET", "/runners?per_page=100", { token: owner.token });
    expect((owned.body as { id: number }[]).map((r) => r.id)).toContain(group.body.id);
    expect(await call(target, "PUT", `/runners/${group.body.id}`, { token: owner.token, body: { paused: true } })).toMatchObject({
      status: 200,
      body: { id: group.body.id, paused: true },
    });
    expect((await call(target, "POST", `/runners/${group.body.id}/reset_authentication_token`, { token: owner.token })).status).toBe(201);

    // Inherited: the group's Owner is Owner (so at least Maintainer) of its projects.
    const project = await createRunner(owner.token, { runner_type: "project_type", project_id: target.projectId });
    expect(project.status).toBe(201);
    const projectList = await call(target, "GET", `/projects/${target.projectId}/runners?per_page=100`, { token: owner.token });
    expect(projectList.status).toBe(200);
    expect((projectList.body as { id: number }[]).map((r) => r.id)).toEqual(expect.arrayContaining([group.body.id, project.body.id]));
    expect((await call(target, "DELETE", `/runners/${project.body.id}`, { token: owner.token })).status).toBe(204);
    expect((await call(target, "DELETE", `/runners/${group.body.id}`, { token: owner.token })).status).toBe(204);
  });
});

describe("the group Maintainer role (access_level 40)", () => {
  it("manages project runners of the group's projects but may not list, create or manage group runners", async () => {
    const maintainer = await groupToken(target, 40);
    expect(await call(target, "GET", `/groups/${target.groupId}/runners`, { token: maintainer.token })).toEqual(
      expect.objectContaining(FORBIDDEN),
    );
    expect(await createRunner(maintainer.token, { runner_type: "group_type", group_id: target.groupId })).toMatchObject({
      status: 403,
      body: { message: "403 Forbidden - Insufficient permissions" },
    });
    const byAdmin = await createRunner(target.token, { runner_type: "group_type", group_id: target.groupId, maintenance_note: "n" });
    // It reads a group runner (Maintainer at the group level), without the note only updaters see.
    expect(await call(target, "GET", `/runners/${byAdmin.body.id}`, { token: maintainer.token })).toMatchObject({
      status: 200,
      body: { id: byAdmin.body.id, maintenance_note: null },
    });
    expect(await call(target, "PUT", `/runners/${byAdmin.body.id}`, { token: maintainer.token, body: { paused: true } })).toMatchObject({
      status: 403,
      body: { message: "403 Forbidden - No access granted" },
    });
    const project = await createRunner(maintainer.token, { runner_type: "project_type", project_id: target.projectId });
    expect(project.status).toBe(201);
    expect((await call(target, "GET", `/projects/${target.projectId}/runners`, { token: maintainer.token })).status).toBe(200);
    expect(await call(target, "PUT", `/runners/${project.body.id}`, { token: maintainer.token, body: { paused: true } })).toMatchObject({
      status: 200,
    });
  });
});

describe("who sees a group", () => {
  it.skipIf(REAL_GITLAB)(`a member of nothing gets 404 Group Not Found; a project's Maintainer 403${NEEDS_CONTROL}`, async () => {
    const outsider = (await control(target, "POST", "/tokens", { scopes: ["api"], admin: false })) as { token: string };
    expect(await call(target, "GET", `/groups/${target.groupId}/runners`, { token: outsider.token })).toMatchObject({
      status: 404,
      body: { message: "404 Group Not Found" },
    });
    const projectMaintainer = (await control(target, "POST", "/tokens", { scopes: ["api"], access_level: 40 })) as { token: string };
    expect(await call(target, "GET", `/groups/${target.groupId}/runners`, { token: projectMaintainer.token })).toMatchObject(FORBIDDEN);
  });

  it.skipIf(REAL_GITLAB)(`a person who owns the group (control API group_id) lists its runners${NEEDS_CONTROL}`, async () => {
    const person = (await control(target, "POST", "/tokens", { scopes: ["api"], group_id: target.groupId, access_level: 50 })) as {
      token: string;
    };
    expect((await call(target, "GET", `/groups/${target.groupId}/runners`, { token: person.token })).status).toBe(200);
    expect((await call(target, "GET", `/projects/${target.projectId}/variables`, { token: person.token })).status).toBe(200);
  });
});
