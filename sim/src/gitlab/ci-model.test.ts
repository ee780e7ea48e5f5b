import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { compositeStatus, maskTrace } from "./ci-state.js";
import { controlHeaders } from "./control-secret.js";
import { startGitlabEmulator } from "./index.js";
import { STATE_FILE } from "./persistence.js";
import { variableValidationErrors } from "./variable-model.js";

const job = (status: string, allow_failure = false) => ({ status, allow_failure }) as Parameters<typeof compositeStatus>[0][number];

describe("compositeStatus (Gitlab::Ci::Status::Composite)", () => {
  it.each([
    [[], "created"],
    [[job("skipped")], "skipped"],
    [[job("success"), job("skipped")], "success"],
    [[job("success"), job("failed", true)], "success"],
    [[job("created"), job("created")], "created"],
    [[job("pending"), job("created")], "pending"],
    [[job("success"), job("pending")], "running"],
    [[job("success"), job("created")], "running"],
    [[job("running"), job("failed")], "running"],
    [[job("canceled"), job("success")], "canceled"],
    [[job("manual"), job("success")], "manual"],
    [[job("manual", true), job("success")], "success"],
    [[job("manual", true)], "skipped"],
    [[job("canceling"), job("success")], "canceling"],
    [[job("failed"), job("success")], "failed"],
    [[job("failed"), job("canceled")], "failed"],
  ])("%j → %s", (jobs, expected) => {
    expect(compositeStatus(jobs)).toBe(expected);
  });
});

describe("maskTrace", () => {
  it("replaces masked values (longest first), leaves unmasked ones", () => {
    const vars = [
      { masked: true, value: "secret12" },
      { masked: true, value: "secret12345" },
      { masked: false, value: "visible1" },
    ];
    expect(maskTrace("a secret12345 b secret12 c visible1", vars)).toBe("a [MASKED] b [MASKED] c visible1");
  });
});

describe("variableValidationErrors", () => {
  const base = { key: "TOKEN", value: "abcdefgh", masked: false, raw: false, environment_scope: "*", description: null };
  it("accepts GitLab's masked alphabet and rejects the rest; raw relaxes it to no whitespace", () => {
    expect(variableValidationErrors({ ...base, masked: true, value: "aB3+/=@:.~_-xyz" }, [])).toEqual({});
    expect(variableValidationErrors({ ...base, masked: true, value: "1234567" }, [])).toEqual({ value: ["is invalid"] });
    expect(variableValidationErrors({ ...base, masked: true, value: "abc$defgh" }, [])).toEqual({ value: ["is invalid"] });
    expect(variableValidationErrors({ ...base, masked: true, raw: true, value: "abc$def!gh" }, [])).toEqual({});
    expect(variableValidationErrors({ ...base, masked: true, raw: true, value: "abc def gh" }, [])).toEqual({ value: ["is invalid"] });
  });

  it("key: blank, charset and the duplicate per environment scope", () => {
    expect(variableValidationErrors({ ...base, key: "" }, [])).toEqual({
      key: ["can't be blank", "can contain only letters, digits and '_'."],
    });
    const other = { ...base, id: 1, project_id: 1, variable_type: "env_var" as const, protected: false, hidden: false };
    expect(variableValidationErrors(base, [other])).toEqual({ key: ["(TOKEN) has already been taken"] });
    expect(variableValidationErrors({ ...base, environment_scope: "production" }, [other])).toEqual({});
  });
});

describe("CI state on disk", () => {
  const dir = mkdtempSync(join(tmpdir(), "pifleet-ci-state-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("keeps variables, pipelines, jobs and traces across a restart; a state from before CI loads with none", async () => {
    const first = await startGitlabEmulator({ stateDir: dir });
    const headers = { "PRIVATE-TOKEN": first.adminToken, "content-type": "application/json" };
    await fetch(`${first.url}/api/v4/projects/1/variables`, {
      method: "POST",
      headers,
      body: JSON.stringify({ key: "KEPT", value: "kept-value" }),
    });
    const created = (await (
      await fetch(`${first.url}/-/sim/pipelines`, {
        method: "POST",
        headers: { ...controlHeaders(first.controlSecret), "content-type": "application/json" },
        body: JSON.stringify({ jobs: [{ name: "build", status: "success", trace: "built\n" }] }),
      })
    ).json()) as { pipeline: { id: number }; jobs: { id: number }[] };
    await first.close();

    const second = await startGitlabEmulator({ stateDir: dir });
    const get = (path: string) => fetch(`${second.url}/api/v4${path}`, { headers: { "PRIVATE-TOKEN": second.adminToken } });
    expect(await (await get("/projects/1/variables/KEPT")).json()).toMatchObject({ value: "kept-value" });
    expect(await (await get(`/projects/1/pipelines/${created.pipeline.id}`)).json()).toMatchObject({ status: "success" });
    expect(await (await get(`/projects/1/jobs/${created.jobs[0]?.id}/trace`)).text()).toBe("built\n");
    await second.close();

    const file = join(dir, STATE_FILE);
    const { ci: _dropped, ...older } = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
    writeFileSync(file, JSON.stringify(older));
    const third = await startGitlabEmulator({ stateDir: dir });
    const reply = await fetch(`${third.url}/api/v4/projects/1/pipelines`, { headers: { "PRIVATE-TOKEN": third.adminToken } });
    expect(await reply.json()).toEqual([]);
    await third.close();
  });
});
