import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { call, control, NEEDS_CONTROL, REAL_GITLAB, useContractTarget } from "./test-support/target.js";

// GitLab contract: creating, reading, updating, deleting runners and their tokens.
const { target, runners } = useContractTarget();
const TAG = `contract-${randomBytes(4).toString("hex")}`;
const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

describe("POST /user/runners", () => {
  it("creates a group runner with every server-side field and answers 201 {id, token glrt-…, token_expires_at}", async () => {
    const created = await runners.group({
      description: "pi1 runner",
      paused: true,
      locked: true,
      run_untagged: false,
      tag_list: [TAG, "arm64"],
      access_level: "ref_protected",
      maximum_timeout: 3600,
      maintenance_note: "managed-by=pifleet node=pi1",
    });
    expect(created).toEqual({ id: expect.any(Number), token: expect.stringMatching(/^glrt-/), token_expires_at: null });
    const details = await call(target, "GET", `/runners/${created.id}`);
    expect(details.status).toBe(200);
    expect(details.body).toMatchObject({
      id: created.id,
      description: "pi1 runner",
      ip_address: null,
      active: false,
      paused: true,
      is_shared: false,
      runner_type: "group_type",
      online: false,
      status: "never_contacted",
      tag_list: expect.arrayContaining([TAG, "arm64"]),
      run_untagged: false,
      locked: true,
      maximum_timeout: 3600,
      access_level: "ref_protected",
      maintenance_note: "managed-by=pifleet node=pi1",
      contacted_at: null,
      projects: [],
      groups: [expect.objectContaining({ id: target.groupId, name: expect.any(String), web_url: expect.any(String) })],
    });
    expect(details.body).toHaveProperty("name");
    expect(details.body).toHaveProperty("version");
  });

  it("creates instance and project runners; a tag_list may be a comma-separated string; form encoding works", async () => {
    const instance = await runners.create({ runner_type: "instance_type", tag_list: `${TAG}, x86` });
    const project = await runners.create({ runner_type: "project_type", project_id: target.projectId });
    const shared = await call(target, "GET", `/runners/${instance.id}`);
    expect(shared.body).toMatchObject({ runner_type: "instance_type", is_shared: true, tag_list: expect.arrayContaining([TAG, "x86"]) });
    expect((await call(target, "GET", `/runners/${project.id}`)).body).toMatchObject({
      runner_type: "project_type",
      projects: [expect.objectContaining({ id: target.projectId, path_with_namespace: expect.any(String) })],
    });
    const form = await call(target, "POST", "/user/runners", {
      form: { runner_type: "group_type", group_id: String(target.groupId), paused: "true" },
    });
    expect(form.status).toBe(201);
    const id = (form.body as { id: number }).id;
    expect((await call(target, "GET", `/runners/${id}`)).body).toMatchObject({ paused: true });
    expect((await call(target, "DELETE", `/runners/${id}`)).status).toBe(204);
  });

  it.each([
    [{}, { error: "runner_type is missing" }],
    [{ runner_type: "cluster_type" }, { error: "runner_type does not have a valid value" }],
    [{ runner_type: "group_type" }, { error: "group_id is missing" }],
    [{ runner_type: "project_type" }, { error: "project_id is missing" }],
    [{ runner_type: "instance_type", access_level: "everyone" }, { error: "access_level does not have a valid value" }],
    [{ runner_type: "instance_type", paused: "perhaps" }, { error: "paused is invalid" }],
  ])("rejects %o with 400 %o", async (fields, body) => {
    const reply = await call(target, "POST", "/user/runners", { body: fields });
    expect(reply.status).toBe(400);
    expect(reply.body).toEqual(body);
  });

  it("rejects what Ci::Runner validation rejects with the service's 400 sentence", async () => {
    const untagged = await call(target, "POST", "/user/runners", { body: { runner_type: "instance_type", run_untagged: false } });
    expect(untagged.status).toBe(400);
    expect(untagged.body).toEqual({
      message: "400 Bad request - Tags list can not be empty when runner is not allowed to pick untagged jobs",
    });
    const timeout = await call(target, "POST", "/user/runners", { body: { runner_type: "instance_type", maximum_timeout: 60 } });
    expect(timeout.status).toBe(400);
    expect(timeout.body).toEqual({ message: "400 Bad request - Maximum timeout needs to be at least 10 minutes" });
  });

  it("rejects a malformed JSON body with 400", async () => {
    const res = await fetch(`${target.url}/api/v4/user/runners`, {
      method: "POST",
      headers: { "PRIVATE-TOKEN": target.token, "content-type": "application/json" },
      body: '{"runner_type": ',
    });
    expect(res.status).toBe(400);
  });

  it("rejects a group or project that does not exist with 400", async () => {
    const group = await call(target, "POST", "/user/runners", { body: { runner_type: "group_type", group_id: 999999999 } });
    expect(group.status).toBe(400);
    expect(group.body).toEqual({ message: expect.stringMatching(/^400 Bad request - Missing\/invalid (group|scope)$/) });
    const project = await call(target, "POST", "/user/runners", { body: { runner_type: "project_type", project_id: 999999999 } });
    expect(project.status).toBe(400);
    expect(project.body).toEqual({ message: expect.stringMatching(/^400 Bad request - Missing\/invalid (project|scope)$/) });
  });
});

describe("GET/PUT/DELETE /runners/:id", () => {
  it("answers 404 {message: '404 Runner Not Found'} for an unknown runner and 400 for a non-numeric id", async () => {
    for (const method of ["GET", "PUT", "DELETE"]) {
      const reply = await call(target, method, "/runners/999999999", method === "PUT" ? { body: { paused: true } } : {});
      expect(reply.status).toBe(404);
      expect(reply.body).toEqual({ message: "404 Runner Not Found" });
    }
    expect((await call(target, "GET", "/runners/abc")).body).toEqual({ error: "id is invalid" });
  });

  it("PUT updates each field and answers the details", async () => {
    const { id } = await runners.group({ description: "before", tag_list: [TAG] });
    const reply = await call(target, "PUT", `/runners/${id}`, {
      body: {
        description: "after",
        paused: true,
        tag_list: [TAG, "edited"],
        run_untagged: false,
        locked: true,
        access_level: "ref_protected",
        maximum_timeout: 7200,
        maintenance_note: "edited by a person",
      },
    });
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({
      id,
      description: "after",
      paused: true,
      active: false,
      tag_list: expect.arrayContaining([TAG, "edited"]),
      run_untagged: false,
      locked: true,
      access_level: "ref_protected",
      maximum_timeout: 7200,
      maintenance_note: "edited by a person",
    });
    expect(((reply.body as { tag_list: string[] }).tag_list ?? []).length).toBe(2);
    expect((await call(target, "GET", `/runners/${id}`)).body).toMatchObject({ description: "after", paused: true });
  });

  it("PUT accepts the deprecated active flag as the opposite of paused", async () => {
    const { id } = await runners.group();
    expect((await call(target, "PUT", `/runners/${id}`, { body: { active: false } })).body).toMatchObject({ paused: true, active: false });
    expect((await call(target, "PUT", `/runners/${id}`, { body: { active: true } })).body).toMatchObject({ paused: false, active: true });
  });

  it("PUT with no field, with both active and paused, or with an invalid value is a 400", async () => {
    const { id } = await runners.group();
    const none = await call(target, "PUT", `/runners/${id}`, { body: {} });
    expect(none.status).toBe(400);
    expect(none.body).toEqual({ error: expect.stringContaining("at least one parameter must be provided") });
    const both = await call(target, "PUT", `/runners/${id}`, { body: { active: true, paused: true } });
    expect(both.status).toBe(400);
    expect(both.body).toEqual({ error: "active, paused are mutually exclusive" });
    const invalid = await call(target, "PUT", `/runners/${id}`, { body: { run_untagged: false, tag_list: [] } });
    expect(invalid.status).toBe(400);
    expect(invalid.body).toEqual({ message: { tags_list: ["can not be empty when runner is not allowed to pick untagged jobs"] } });
  });

  it("details always carry maintenance_note: null for a caller who may read the runner but not update it", async () => {
    const instance = await runners.create({ runner_type: "instance_type", maintenance_note: "managed-by=pifleet" });
    const issued = await call(target, "POST", `/projects/${target.projectId}/access_tokens`, {
      body: { name: `contract-note-${TAG}`, scopes: ["read_api"], access_level: 20, expires_at: inDays(30) },
    });
    expect(issued.status).toBe(201);
    const reader = issued.body as { id: number; token: string };
    try {
      const details = await call(target, "GET", `/runners/${instance.id}`, { token: reader.token });
      expect(details.status).toBe(200);
      expect(details.body).toHaveProperty("maintenance_note", null);
      expect((await call(target, "GET", `/runners/${instance.id}`)).body).toHaveProperty("maintenance_note", "managed-by=pifleet");
    } finally {
      await call(target, "DELETE", `/projects/${target.projectId}/access_tokens/${reader.id}`);
    }
  });

  it("DELETE honours If-Unmodified-Since: 412 when the runner changed after it, 204 otherwise; an unparsable date is ignored", async () => {
    const { id } = await runners.group();
    const stale = await call(target, "DELETE", `/runners/${id}`, { headers: { "If-Unmodified-Since": "Thu, 01 Jan 2015 00:00:00 GMT" } });
    expect(stale.status).toBe(412);
    expect(stale.body).toEqual({ message: "412 Precondition Failed" });
    expect((await call(target, "GET", `/runners/${id}`)).status).toBe(200);
    const later = new Date(Date.now() + 3_600_000).toUTCString();
    expect((await call(target, "DELETE", `/runners/${id}`, { headers: { "If-Unmodified-Since": later } })).status).toBe(204);
    const other = await runners.group();
    expect((await call(target, "DELETE", `/runners/${other.id}`, { headers: { "If-Unmodified-Since": "not a date" } })).status).toBe(204);
  });

  it.skipIf(REAL_GITLAB)(
    `DELETE of a project runner assigned to several projects: 403 for anyone but the admin, before the access check and If-Unmodified-Since${NEEDS_CONTROL}`,
    async () => {
      const { id } = await runners.create({ runner_type: "project_type", project_id: target.projectId });
      const second = (await control(target, "POST", "/projects", { name: `contract-${TAG}` })) as { id: number };
      await control(target, "POST", `/runners/${id}/projects`, { project_id: second.id });
      const several = { status: 403, body: { message: "403 Forbidden - Runner associated with more than one project" } };
      // A person who maintains both projects (a Maintainer of their group) may not delete it: unassign first.
      const maintainer = (await control(target, "POST", "/tokens", { scopes: ["api"], group_id: target.groupId, access_level: 40 })) as {
        token: string;
      };
      expect(await call(target, "DELETE", `/runners/${id}`, { token: maintainer.token })).toMatchObject(several);
      const stale = { "If-Unmodified-Since": "Thu, 01 Jan 2015 00:00:00 GMT" };
      expect(await call(target, "DELETE", `/runners/${id}`, { token: maintainer.token, headers: stale })).toMatchObject(several);
      // Nor may a Maintainer of the first project only; the multi-project refusal comes first, as in GitLab.
      const firstOnly = (await control(target, "POST", "/tokens", { scopes: ["api"], access_level: 40 })) as { token: string };
      expect(await call(target, "DELETE", `/runners/${id}`, { token: firstOnly.token })).toMatchObject(several);
      // The admin may: the 412 still applies to it, then 204.
      expect((await call(target, "DELETE", `/runners/${id}`, { headers: stale })).status).toBe(412);
      expect((await call(target, "DELETE", `/runners/${id}`)).status).toBe(204);
    },
  );

  it("DELETE of a project runner by a Maintainer of its only project: 204; by a Developer: 403 No access granted", async () => {
    const { id } = await runners.create({ runner_type: "project_type", project_id: target.projectId });
    const tokenOf = async (access_level: number) => {
      const reply = await call(target, "POST", `/projects/${target.projectId}/access_tokens`, {
        body: { name: `contract-${TAG}-${access_level}`, scopes: ["api"], access_level, expires_at: inDays(7) },
      });
      return reply.body as { id: number; token: string };
    };
    const developer = await tokenOf(30);
    const maintainer = await tokenOf(40);
    try {
      expect(await call(target, "DELETE", `/runners/${id}`, { token: developer.token })).toMatchObject({
        status: 403,
        body: { message: "403 Forbidden - No access granted" },
      });
      expect((await call(target, "DELETE", `/runners/${id}`, { token: maintainer.token })).status).toBe(204);
    } finally {
      for (const t of [developer, maintainer]) await call(target, "DELETE", `/projects/${target.projectId}/access_tokens/${t.id}`);
    }
  });

  it("DELETE answers 204 and the runner is gone", async () => {
    const { id } = await runners.group();
    const reply = await call(target, "DELETE", `/runners/${id}`);
    expect(reply.status).toBe(204);
    expect(reply.body).toBe("");
    expect((await call(target, "GET", `/runners/${id}`)).status).toBe(404);
    expect((await call(target, "DELETE", `/runners/${id}`)).status).toBe(404);
  });
});

describe("tokens", () => {
  it("POST /runners/:id/reset_authentication_token answers 201 with a new token; only the new one verifies", async () => {
    const { id, token: old } = await runners.group();
    const reset = await call(target, "POST", `/runners/${id}/reset_authentication_token`);
    expect(reset.status).toBe(201);
    expect(reset.body).toEqual({ token: expect.stringMatching(/^glrt-/), token_expires_at: null });
    const fresh = (reset.body as { token: string }).token;
    expect(fresh).not.toBe(old);
    const systemId = "s_0123456789ab";
    expect((await call(target, "POST", "/runners/verify", { token: null, body: { token: old, system_id: systemId } })).status).toBe(403);
    const verified = await call(target, "POST", "/runners/verify", { token: null, body: { token: fresh, system_id: systemId } });
    expect(verified.status).toBe(200);
    expect(verified.body).toMatchObject({ id, token: fresh });
    expect((await call(target, "POST", "/runners/999999999/reset_authentication_token")).status).toBe(404);
  });

  it("POST /runners/verify needs a token (400) and rejects an unknown one (403)", async () => {
    const missing = await call(target, "POST", "/runners/verify", { token: null, body: {} });
    expect(missing.status).toBe(400);
    expect(missing.body).toEqual({ error: "token is missing" });
    const unknown = await call(target, "POST", "/runners/verify", { token: null, body: { token: "glrt-unknown", system_id: "s_1" } });
    expect(unknown.status).toBe(403);
  });
});
