import { Gitlab } from "@gitbeaker/rest";
import { beforeAll, describe, expect, it } from "vitest";
import { control, useContractTarget } from "./test-support/target.js";

// A real client must not notice the emulator: @gitbeaker/rest 43 on CI/CD variables, pipelines,
// jobs and job logs (what the pipeline follower and the variable set-up will use).
const { target } = useContractTarget({ emulator: true });
let api: InstanceType<typeof Gitlab>;
beforeAll(() => {
  api = new Gitlab({ host: target.url, token: target.token });
});

describe("@gitbeaker/rest on CI/CD against the emulator", () => {
  it("creates, lists, shows (with filter), edits and removes project variables", async () => {
    const pid = target.projectId;
    await api.ProjectVariables.create(pid, "GB_SSH_KEY", "-----BEGIN KEY-----\nabc\n", { variableType: "file", protected: true });
    await api.ProjectVariables.create(pid, "GB_TOKEN", "glpat-abcdefgh12345678", { masked: true, environmentScope: "production" });
    await api.ProjectVariables.create(pid, "GB_TOKEN", "glpat-zyxwvuts87654321", { masked: true, environmentScope: "staging" });

    const all = await api.ProjectVariables.all(pid);
    expect(all.map((v) => `${v.key}@${v.environment_scope}`).sort()).toEqual(["GB_SSH_KEY@*", "GB_TOKEN@production", "GB_TOKEN@staging"]);
    expect(await api.ProjectVariables.show(pid, "GB_SSH_KEY")).toMatchObject({ variable_type: "file", protected: true });
    const staging = await api.ProjectVariables.show(pid, "GB_TOKEN", { filter: { environment_scope: "staging" } });
    expect(staging).toMatchObject({ value: "glpat-zyxwvuts87654321", masked: true });
    const edited = await api.ProjectVariables.edit(pid, "GB_TOKEN", "glpat-newvalue-0000", { filter: { environment_scope: "staging" } });
    expect(edited).toMatchObject({ value: "glpat-newvalue-0000", environment_scope: "staging" });
    await expect(api.ProjectVariables.show(pid, "GB_TOKEN")).rejects.toThrow(/Conflict|multiple variables/);

    for (const scope of ["production", "staging"])
      await api.ProjectVariables.remove(pid, "GB_TOKEN", { filter: { environment_scope: scope } });
    await api.ProjectVariables.remove(pid, "GB_SSH_KEY");
    expect(await api.ProjectVariables.all(pid)).toEqual([]);
  });

  it("lists and shows pipelines, lists a pipeline's jobs by scope, shows a job and reads its log", async () => {
    const pid = target.projectId;
    const created = (await control(target, "POST", "/pipelines", {
      ref: "main",
      jobs: [
        { name: "verify", stage: "verify", status: "success", trace: "ok\n" },
        { name: "deploy", stage: "deploy", status: "running" },
      ],
    })) as { pipeline: { id: number }; jobs: { id: number }[] };

    const pipelines = await api.Pipelines.all(pid, { ref: "main", status: "running" });
    expect(pipelines.map((p) => p.id)).toContain(created.pipeline.id);
    expect(await api.Pipelines.show(pid, created.pipeline.id)).toMatchObject({ id: created.pipeline.id, status: "running", ref: "main" });

    const jobs = await api.Jobs.all(pid, { pipelineId: created.pipeline.id });
    expect(jobs.map((j) => j.name)).toEqual(["deploy", "verify"]);
    const done = await api.Jobs.all(pid, { pipelineId: created.pipeline.id, scope: "success" });
    expect(done.map((j) => j.name)).toEqual(["verify"]);
    expect(await api.Jobs.show(pid, created.jobs[0]?.id ?? 0)).toMatchObject({ name: "verify", status: "success" });
    expect(await api.Jobs.showLog(pid, created.jobs[0]?.id ?? 0)).toBe("ok\n");
  });
});
