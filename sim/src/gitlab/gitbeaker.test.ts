import { Gitlab } from "@gitbeaker/rest";
import { beforeAll, describe, expect, it } from "vitest";
import { control, useContractTarget } from "./test-support/target.js";

// runner-manager talks to GitLab through @gitbeaker/rest 43: the calls it needs must work against the emulator.
const { target } = useContractTarget({ emulator: true });
let api: InstanceType<typeof Gitlab>;
beforeAll(() => {
  api = new Gitlab({ host: target.url, token: target.token });
});

describe("@gitbeaker/rest against the emulator", () => {
  it("creates, lists (following pagination), shows, edits, resets and removes runners", async () => {
    expect((await api.Users.showCurrentUser()).username).toBe("root");
    const created = [];
    for (const node of ["pi1", "pi2", "pi3"]) {
      created.push(
        await api.Users.createCIRunner("group_type", {
          groupId: target.groupId,
          description: `pifleet ${node}`,
          tagList: ["pifleet", node],
          maintenanceNote: `managed-by=pifleet node=${node}`,
        }),
      );
    }
    expect(created.map((c) => c.token)).toEqual([
      expect.stringMatching(/^glrt-/),
      expect.stringMatching(/^glrt-/),
      expect.stringMatching(/^glrt-/),
    ]);
    const [first, second] = created;
    if (!first || !second) throw new Error("runners were not created");

    // gitbeaker follows Link rel="next" itself: 3 runners, 2 per page, one call.
    const owned = await api.Runners.all({ owned: true, perPage: 2 });
    expect(owned.map((r) => r.id).sort()).toEqual(created.map((c) => c.id).sort());
    expect((await api.Runners.all({ groupId: target.groupId, tagList: ["pifleet", "pi2"] })).map((r) => r.id)).toEqual([second.id]);
    expect(await api.Runners.all({ projectId: target.projectId, status: "online" })).toEqual([]);
    expect((await api.Runners.all({ paused: false })).length).toBe(3);

    const shown = await api.Runners.show(first.id);
    expect(shown).toMatchObject({ description: "pifleet pi1", status: "never_contacted", maintenance_note: "managed-by=pifleet node=pi1" });
    const edited = await api.Runners.edit(first.id, { paused: true, tagList: ["pifleet", "pi1", "drained"] });
    expect(edited).toMatchObject({ paused: true, tag_list: ["pifleet", "pi1", "drained"] });

    const reset = await api.requester.post(`runners/${first.id}/reset_authentication_token`);
    expect(reset.status).toBe(201);
    expect((reset.body as { token: string }).token).not.toBe(first.token);

    await api.Runners.remove({ runnerId: second.id });
    await expect(api.Runners.show(second.id)).rejects.toMatchObject({ cause: { description: "404 Runner Not Found" } });
  });

  it("reads managers and running jobs, as a drain does", async () => {
    const runner = await api.Users.createCIRunner("instance_type", { description: "drain me" });
    const verified = await api.requester.post("runners/verify", { body: { token: runner.token, systemId: "s_drain0000001" } });
    expect(verified.status).toBe(200);
    const job = (await control(target, "POST", `/runners/${runner.id}/jobs`, { name: "long" })) as { id: number };
    const managers = await api.requester.get(`runners/${runner.id}/managers`);
    expect(managers.body).toEqual([
      expect.objectContaining({ system_id: "s_drain0000001", status: "online", job_execution_status: "active" }),
    ]);
    expect((await api.Runners.allJobs(runner.id, { status: "running" })).map((j) => j.id)).toEqual([job.id]);
    await control(target, "POST", `/jobs/${job.id}/finish`, { status: "success" });
    expect(await api.Runners.allJobs(runner.id, { status: "running" })).toEqual([]);
  });

  it("keeps one merge-request note up to date", async () => {
    const note = await api.MergeRequestNotes.create(target.projectId, target.mrIid, "plan: 1 change");
    await api.MergeRequestNotes.edit(target.projectId, target.mrIid, note.id, { body: "plan: no changes" });
    const notes = await api.MergeRequestNotes.all(target.projectId, target.mrIid);
    expect(notes.map((n) => n.body)).toEqual(["plan: no changes"]);
  });

  it("retries a 429 by itself and surfaces other faults as errors", async () => {
    await control(target, "POST", "/faults", { kind: "status", status: 429, retry_after: 1, count: 1 });
    expect((await api.Users.showCurrentUser()).username).toBe("root");
    await control(target, "POST", "/faults", { kind: "status", status: 503, count: 1 });
    await expect(api.Users.showCurrentUser()).rejects.toMatchObject({ cause: { response: { status: 503 } } });
  });
});
