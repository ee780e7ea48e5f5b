import { describe, expect, it } from "vitest";
import { call, control, mintToken, NEEDS_CONTROL, REAL_GITLAB, useContractTarget } from "./test-support/target.js";

// GitLab contract: authentication, token scopes and the 501 rule.
const { target, runners } = useContractTarget();

describe("real GitLab run", () => {
  it.skipIf(!REAL_GITLAB)(
    "targets the real GitLab at GITLAB_URL (skipped: set GITLAB_URL, GITLAB_TOKEN, GITLAB_GROUP_ID, GITLAB_PROJECT_ID, GITLAB_MR_IID to run the contract suite against one)",
    () => {
      expect(target.real).toBe(true);
      expect(target.url).toBe(process.env.GITLAB_URL?.replace(/\/+$/, ""));
    },
  );
});

describe("authentication", () => {
  it("GET /version answers version and revision", async () => {
    const reply = await call(target, "GET", "/version");
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ version: expect.stringMatching(/^\d+\.\d+\.\d+/), revision: expect.any(String) });
  });

  it("GET /user answers the token's owner", async () => {
    const reply = await call(target, "GET", "/user");
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ id: expect.any(Number), username: expect.any(String), state: "active", is_admin: true });
  });

  it("accepts the token as Authorization: Bearer too", async () => {
    const reply = await call(target, "GET", "/user", { token: null, headers: { Authorization: `Bearer ${target.token}` } });
    expect(reply.status).toBe(200);
  });

  it.each([
    ["no token", null],
    ["an unknown token", "glpat-not-a-real-token-000"],
  ])("answers 401 {message: '401 Unauthorized'} with %s", async (_label, token) => {
    for (const [method, path] of [
      ["GET", "/user"],
      ["GET", "/runners"],
      ["PUT", "/runners/1"],
    ] as const) {
      const reply = await call(target, method, path, { token });
      expect(reply.status).toBe(401);
      expect(reply.body).toEqual({ message: "401 Unauthorized" });
    }
  });
});

describe(`token scopes${NEEDS_CONTROL}`, () => {
  const insufficient = (scope: string) => ({
    error: "insufficient_scope",
    error_description: "The request requires higher privileges than provided by the access token.",
    scope,
  });

  it.skipIf(REAL_GITLAB)("read_api reads but cannot write", async () => {
    const token = await mintToken(target, ["read_api"]);
    const runner = await runners.group({ description: "scope-read" });
    expect((await call(target, "GET", "/runners", { token })).status).toBe(200);
    expect((await call(target, "GET", `/runners/${runner.id}`, { token })).status).toBe(200);
    const put = await call(target, "PUT", `/runners/${runner.id}`, { token, body: { paused: true } });
    expect(put.status).toBe(403);
    expect(put.body).toEqual(insufficient("api manage_runner"));
    expect(put.headers.get("www-authenticate")).toContain('error="insufficient_scope"');
    const create = await call(target, "POST", "/user/runners", { token, body: { runner_type: "instance_type" } });
    expect(create.status).toBe(403);
    expect(create.body).toEqual(insufficient("api create_runner"));
  });

  it.skipIf(REAL_GITLAB)("create_runner creates runners and nothing else", async () => {
    const token = await mintToken(target, ["create_runner"]);
    const created = await call(target, "POST", "/user/runners", { token, body: { runner_type: "group_type", group_id: target.groupId } });
    expect(created.status).toBe(201);
    const id = (created.body as { id: number }).id;
    const list = await call(target, "GET", "/runners", { token });
    expect(list.status).toBe(403);
    expect(list.body).toEqual(insufficient("api read_api"));
    expect((await call(target, "GET", `/runners/${id}`, { token })).status).toBe(403);
    expect((await call(target, "DELETE", `/runners/${id}`)).status).toBe(204);
  });

  it.skipIf(REAL_GITLAB)("manage_runner manages /runners/:id… but cannot list or create", async () => {
    const token = await mintToken(target, ["manage_runner"]);
    const runner = await runners.group({ description: "scope-manage" });
    expect((await call(target, "GET", `/runners/${runner.id}`, { token })).status).toBe(200);
    expect((await call(target, "PUT", `/runners/${runner.id}`, { token, body: { paused: true } })).status).toBe(200);
    expect((await call(target, "GET", `/runners/${runner.id}/jobs`, { token })).status).toBe(200);
    expect((await call(target, "GET", `/runners/${runner.id}/managers`, { token })).status).toBe(200);
    expect((await call(target, "POST", `/runners/${runner.id}/reset_authentication_token`, { token })).status).toBe(201);
    const list = await call(target, "GET", "/runners/all", { token });
    expect(list.status).toBe(403);
    expect(list.body).toEqual(insufficient("api read_api"));
    const create = await call(target, "POST", "/user/runners", { token, body: { runner_type: "instance_type" } });
    expect(create.body).toEqual(insufficient("api create_runner"));
  });

  it.skipIf(REAL_GITLAB)("a revoked token is 401", async () => {
    const minted = (await control(target, "POST", "/tokens", { scopes: ["api"] })) as { id: number; token: string };
    expect((await call(target, "GET", "/user", { token: minted.token })).status).toBe(200);
    await control(target, "POST", `/tokens/${minted.id}/revoke`);
    expect((await call(target, "GET", "/user", { token: minted.token })).status).toBe(401);
  });

  it("GET /personal_access_tokens/self answers the token itself, whatever its scope", async () => {
    const self = await call(target, "GET", "/personal_access_tokens/self");
    expect(self.status).toBe(200);
    expect(self.body).toMatchObject({ id: expect.any(Number), name: expect.any(String), active: true, revoked: false });
    expect((self.body as { scopes: string[] }).scopes).toContain("api");
    expect(JSON.stringify(self.body)).not.toContain(target.token);
    if (REAL_GITLAB) return;
    const token = await mintToken(target, ["create_runner"]);
    expect(await call(target, "GET", "/personal_access_tokens/self", { token })).toMatchObject({
      status: 200,
      body: { scopes: ["create_runner"], active: true },
    });
  });

  it.skipIf(REAL_GITLAB)("a user who owns nothing gets 403 on admin and runner endpoints, 404 on the (private) group", async () => {
    const token = await mintToken(target, ["api"], false);
    const runner = await runners.group({ description: "not-theirs" });
    expect(await call(target, "GET", "/runners", { token })).toMatchObject({ status: 200, body: [] });
    expect(await call(target, "GET", "/runners/all", { token })).toMatchObject({ status: 403, body: { message: "403 Forbidden" } });
    expect(await call(target, "GET", `/groups/${target.groupId}/runners`, { token })).toMatchObject({
      status: 404,
      body: { message: "404 Group Not Found" },
    });
    expect(await call(target, "GET", `/runners/${runner.id}`, { token })).toMatchObject({
      status: 403,
      body: { message: "403 Forbidden - No access granted" },
    });
    expect((await call(target, "PUT", `/runners/${runner.id}`, { token, body: { paused: true } })).status).toBe(403);
    expect((await call(target, "DELETE", `/runners/${runner.id}`, { token })).status).toBe(403);
    const create = await call(target, "POST", "/user/runners", { token, body: { runner_type: "instance_type" } });
    expect(create).toMatchObject({ status: 403, body: { message: "403 Forbidden - Insufficient permissions" } });
  });
});

describe(`endpoints the emulator does not cover${NEEDS_CONTROL}`, () => {
  it.skipIf(REAL_GITLAB).each([
    ["GET", "/projects"],
    ["POST", "/runners"],
    ["DELETE", "/runners/managers"],
    ["GET", "/groups/1"],
  ])("%s %s answers 501 naming the endpoint, never a silent success", async (method, path) => {
    const reply = await call(target, method, path);
    expect(reply.status).toBe(501);
    expect(reply.body).toMatchObject({ message: "501 Not Implemented", error: expect.stringContaining(`${method} /api/v4${path}`) });
  });
});
