import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, control, mintToken, NEEDS_CONTROL, REAL_GITLAB, useContractTarget } from "./test-support/target.js";

// GitLab contract: project CI/CD variables (doc/api/project_level_variables.md). Every key this
// file creates starts with PREFIX and is deleted afterwards (matters on a real GitLab).
const { target } = useContractTarget();
const PREFIX = `CONTRACT_${randomBytes(3).toString("hex").toUpperCase()}`;
let base: string;
beforeAll(() => {
  base = `/projects/${target.projectId}/variables`;
});
afterAll(async () => {
  const list = await call(target, "GET", `${base}?per_page=100`);
  for (const v of (list.body as { key: string; environment_scope: string }[]) ?? []) {
    if (!v.key.startsWith(PREFIX)) continue;
    await call(target, "DELETE", `${base}/${v.key}?filter[environment_scope]=${encodeURIComponent(v.environment_scope)}`);
  }
});

type Variable = { key: string; value: string | null; environment_scope: string };

describe("project variables", () => {
  it("POST creates (201) with GitLab's fields and defaults; GET lists and shows it; PUT updates; DELETE removes (204)", async () => {
    const key = `${PREFIX}_PLAIN`;
    const created = await call(target, "POST", base, { body: { key, value: "hello world", description: "greeting" } });
    expect(created).toMatchObject({
      status: 201,
      body: {
        variable_type: "env_var",
        key,
        value: "hello world",
        protected: false,
        masked: false,
        raw: false,
        environment_scope: "*",
        description: "greeting",
      },
    });

    const list = await call(target, "GET", `${base}?per_page=100`);
    expect(list.status).toBe(200);
    expect(list.headers.get("x-total")).not.toBeNull();
    expect((list.body as Variable[]).filter((v) => v.key === key).map((v) => v.value)).toEqual(["hello world"]);
    expect(await call(target, "GET", `${base}/${key}`)).toMatchObject({ status: 200, body: { key, value: "hello world" } });

    // Form-encoded, as curl --form sends it; booleans as strings.
    const updated = await call(target, "PUT", `${base}/${key}`, {
      form: { value: "s3cr3t-token.value", masked: "true", protected: "true", variable_type: "file" },
    });
    expect(updated).toMatchObject({
      status: 200,
      body: { key, value: "s3cr3t-token.value", masked: true, protected: true, variable_type: "file", environment_scope: "*" },
    });

    expect((await call(target, "DELETE", `${base}/${key}`)).status).toBe(204);
    expect(await call(target, "GET", `${base}/${key}`)).toMatchObject({ status: 404, body: { message: "404 Variable Not Found" } });
    expect(await call(target, "DELETE", `${base}/${key}`)).toMatchObject({ status: 404, body: { message: "404 Variable Not Found" } });
    expect(await call(target, "PUT", `${base}/${key}`, { body: { value: "x" } })).toMatchObject({ status: 404 });
  });

  it("one key per environment scope: a duplicate is 400 (key) has already been taken; two scopes need filter[environment_scope] (409)", async () => {
    const key = `${PREFIX}_SCOPED`;
    expect((await call(target, "POST", base, { body: { key, value: "one", environment_scope: "production" } })).status).toBe(201);
    expect(await call(target, "POST", base, { body: { key, value: "two", environment_scope: "production" } })).toEqual(
      expect.objectContaining({ status: 400, body: { message: { key: [`(${key}) has already been taken`] } } }),
    );
    expect((await call(target, "POST", base, { body: { key, value: "two", environment_scope: "staging" } })).status).toBe(201);

    expect(await call(target, "GET", `${base}/${key}`)).toMatchObject({
      status: 409,
      body: { message: "There are multiple variables with provided parameters. Please use 'filter[environment_scope]'" },
    });
    expect(await call(target, "GET", `${base}/${key}?filter[environment_scope]=staging`)).toMatchObject({
      status: 200,
      body: { value: "two", environment_scope: "staging" },
    });
    const put = await call(target, "PUT", `${base}/${key}?filter[environment_scope]=staging`, { body: { value: "three" } });
    expect(put).toMatchObject({ status: 200, body: { value: "three", environment_scope: "staging" } });
    expect((await call(target, "DELETE", `${base}/${key}?filter[environment_scope]=staging`)).status).toBe(204);
    expect(await call(target, "GET", `${base}/${key}`)).toMatchObject({
      status: 200,
      body: { value: "one", environment_scope: "production" },
    });
  });

  it("validates the key and a masked value with GitLab's messages, and never echoes the value", async () => {
    expect(await call(target, "POST", base, { body: { key: `${PREFIX}-DASH`, value: "v" } })).toMatchObject({
      status: 400,
      body: { message: { key: ["can contain only letters, digits and '_'."] } },
    });
    expect(await call(target, "POST", base, { body: { key: `${PREFIX}_${"K".repeat(255)}`, value: "v" } })).toMatchObject({
      status: 400,
      body: { message: { key: ["is too long (maximum is 255 characters)"] } },
    });
    for (const value of ["short", "has a space in it", "line\nbreak-here", "dollar$VARIABLE"]) {
      const reply = await call(target, "POST", base, { body: { key: `${PREFIX}_MASKED`, value, masked: true } });
      expect(reply).toMatchObject({ status: 400, body: { message: { value: ["is invalid"] } } });
      expect(JSON.stringify(reply.body)).not.toContain(value);
    }
    // Raw (unexpanded) masked variables may hold any non-whitespace characters.
    const raw = await call(target, "POST", base, { body: { key: `${PREFIX}_MASKED`, value: "dollar$VARIABLE", masked: true, raw: true } });
    expect(raw).toMatchObject({ status: 201, body: { masked: true, raw: true } });
    // A masked value must keep its rules on update, too.
    expect(await call(target, "PUT", `${base}/${PREFIX}_MASKED`, { body: { value: "no good", raw: false } })).toMatchObject({
      status: 400,
      body: { message: { value: ["is invalid"] } },
    });
  });

  it("parameter errors: missing key and value, an unknown variable_type, a bad boolean", async () => {
    expect(await call(target, "POST", base, { body: {} })).toMatchObject({
      status: 400,
      body: { error: "key is missing, value is missing" },
    });
    expect(await call(target, "POST", base, { body: { key: `${PREFIX}_X` } })).toMatchObject({
      status: 400,
      body: { error: "value is missing" },
    });
    expect(await call(target, "POST", base, { body: { key: `${PREFIX}_X`, value: "v", variable_type: "secret" } })).toMatchObject({
      status: 400,
      body: { error: "variable_type does not have a valid value" },
    });
    expect(await call(target, "POST", base, { body: { key: `${PREFIX}_X`, value: "v", protected: "maybe" } })).toMatchObject({
      status: 400,
      body: { error: "protected is invalid" },
    });
    expect(await call(target, "GET", "/projects/999999999/variables")).toMatchObject({
      status: 404,
      body: { message: "404 Project Not Found" },
    });
  });
});

describe(`the emulator's errors${NEEDS_CONTROL}`, () => {
  it.skipIf(REAL_GITLAB)("a body that is not JSON is a 400 that does not quote it", async () => {
    const secret = "Zm9vYmFyc2VjcmV0MTIzNDU2";
    const res = await fetch(`${target.url}/api/v4${base}`, {
      method: "POST",
      headers: { "PRIVATE-TOKEN": target.token, "content-type": "application/json" },
      body: `${secret}, "key": "${PREFIX}_BROKEN"`,
    });
    expect(res.status).toBe(400);
    // JSON.parse quotes up to the first 10 characters of a long body, all of a short one.
    expect(await res.text()).not.toContain(secret.slice(0, 8));
  });
});

describe(`variables: who may${NEEDS_CONTROL}`, () => {
  it.skipIf(REAL_GITLAB)("read_api reads but may not write (403 insufficient_scope); a non-member gets 404 Project Not Found", async () => {
    const key = `${PREFIX}_ACCESS`;
    expect((await call(target, "POST", base, { body: { key, value: "v" } })).status).toBe(201);
    const reader = await mintToken(target, ["read_api"]);
    expect((await call(target, "GET", `${base}/${key}`, { token: reader })).status).toBe(200);
    expect(await call(target, "POST", base, { token: reader, body: { key: `${key}_2`, value: "v" } })).toMatchObject({
      status: 403,
      body: { error: "insufficient_scope" },
    });
    expect((await call(target, "DELETE", `${base}/${key}`, { token: reader })).status).toBe(403);
    const outsider = await mintToken(target, ["api"], false);
    expect(await call(target, "GET", base, { token: outsider })).toMatchObject({ status: 404, body: { message: "404 Project Not Found" } });
    expect((await call(target, "POST", base, { token: outsider, body: { key: `${key}_3`, value: "v" } })).status).toBe(404);
  });

  it.skipIf(REAL_GITLAB)("a masked value stays out of the emulator's request log, even when sent in the query string", async () => {
    const secret = "Zm9vYmFyYmF6cXV4MTIz";
    await control(target, "DELETE", "/requests");
    await call(target, "POST", `${base}?key=${PREFIX}_LOGGED&value=${secret}&masked=true`);
    await call(target, "PUT", `${base}/${PREFIX}_LOGGED?value=${secret}x`);
    const log = await control(target, "GET", "/requests");
    expect(JSON.stringify(log)).toContain(`${PREFIX}_LOGGED`);
    expect(JSON.stringify(log)).not.toContain(secret);
  });
});
