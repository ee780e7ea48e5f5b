import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { call, control, NEEDS_CONTROL, REAL_GITLAB, useContractTarget } from "./test-support/target.js";

// GitLab contract: what runners calling home and running jobs look like through the API:
// verify, status values, managers, and GET /runners/:id/jobs.
const { target, runners } = useContractTarget();
const TAG = `activity-${randomBytes(4).toString("hex")}`;

const verify = (token: string, systemId: string) =>
  call(target, "POST", "/runners/verify", { token: null, body: { token, system_id: systemId } });

describe("POST /runners/verify marks the runner contacted", () => {
  it("turns a never_contacted runner online and registers its manager", async () => {
    const runner = await runners.group({ tag_list: [TAG] });
    expect((await call(target, "GET", `/runners/${runner.id}`)).body).toMatchObject({ status: "never_contacted", contacted_at: null });
    expect(await call(target, "GET", `/runners/${runner.id}/managers`)).toMatchObject({ status: 200, body: [] });

    const reply = await verify(runner.token, "s_pi1000000001");
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ id: runner.id, token: runner.token, token_expires_at: null });

    const details = await call(target, "GET", `/runners/${runner.id}`);
    expect(details.body).toMatchObject({ status: "online", online: true, contacted_at: expect.any(String) });
    const managers = await call(target, "GET", `/runners/${runner.id}/managers`);
    expect(managers.status).toBe(200);
    expect(managers.body).toEqual([
      expect.objectContaining({
        id: expect.any(Number),
        system_id: "s_pi1000000001",
        status: "online",
        created_at: expect.any(String),
        contacted_at: expect.any(String),
        job_execution_status: "idle",
      }),
    ]);
    for (const key of ["version", "revision", "platform", "architecture", "ip_address"])
      expect((managers.body as object[])[0]).toHaveProperty(key);
    expect(await listIds(`status=online`)).toContain(runner.id);
  });

  it("a second system_id on the same token is a second manager", async () => {
    const runner = await runners.group({ tag_list: [TAG] });
    await verify(runner.token, "s_pi1000000002");
    await verify(runner.token, "s_pi1000000003");
    await verify(runner.token, "s_pi1000000002");
    const managers = (await call(target, "GET", `/runners/${runner.id}/managers`)).body as { system_id: string }[];
    expect(managers.map((m) => m.system_id).sort()).toEqual(["s_pi1000000002", "s_pi1000000003"]);
  });

  it("without a system_id the contact goes to the manager GitLab calls <legacy>", async () => {
    const runner = await runners.group({ tag_list: [TAG] });
    const reply = await call(target, "POST", "/runners/verify", { token: null, body: { token: runner.token } });
    expect(reply.status).toBe(200);
    const managers = (await call(target, "GET", `/runners/${runner.id}/managers`)).body as { system_id: string }[];
    expect(managers.map((m) => m.system_id)).toEqual(["<legacy>"]);
  });

  it("GET /runners/:id/managers of an unknown runner is 404", async () => {
    expect(await call(target, "GET", "/runners/999999999/managers")).toMatchObject({
      status: 404,
      body: { message: "404 Runner Not Found" },
    });
  });
});

async function listIds(query: string): Promise<number[]> {
  const reply = await call(target, "GET", `/runners/all?tag_list=${TAG}&${query}`);
  expect(reply.status).toBe(200);
  return (reply.body as { id: number }[]).map((r) => r.id);
}

describe(`status values as time passes${NEEDS_CONTROL}`, () => {
  it.skipIf(REAL_GITLAB)("online, offline, stale and never_contacted, in details and in the status filter", async () => {
    const made = await Promise.all([0, 1, 2, 3].map(() => runners.group({ tag_list: [TAG] })));
    const [online, offline, stale, never] = made.map((r) => r.id);
    await control(target, "POST", `/runners/${online}/status`, { status: "online" });
    await control(target, "POST", `/runners/${offline}/status`, { status: "offline" });
    await control(target, "POST", `/runners/${stale}/status`, { status: "stale" });
    for (const [id, status] of [
      [online, "online"],
      [offline, "offline"],
      [stale, "stale"],
      [never, "never_contacted"],
    ] as const) {
      expect((await call(target, "GET", `/runners/${id}`)).body).toMatchObject({ status, online: status === "online" });
    }
    expect(await listIds("status=online")).toContain(online);
    expect(await listIds("status=online")).not.toContain(offline);
    // GitLab's offline scope includes once-contacted stale runners.
    expect(await listIds("status=offline")).toEqual(expect.arrayContaining([offline, stale]));
    expect(await listIds("status=stale")).toEqual([stale]);
    expect(await listIds("status=never_contacted")).toContain(never);
  });

  it.skipIf(REAL_GITLAB)("a contact reported 3 hours ago reads as offline", async () => {
    const { id } = await runners.group({ tag_list: [TAG] });
    await control(target, "POST", `/runners/${id}/contact`, { system_id: "s_late", ago_seconds: 3 * 3600 });
    expect((await call(target, "GET", `/runners/${id}`)).body).toMatchObject({ status: "offline", online: false });
    expect((await call(target, "GET", `/runners/${id}/managers`)).body).toEqual([
      expect.objectContaining({ system_id: "s_late", status: "offline" }),
    ]);
  });
});

describe("the deprecated REST status", () => {
  it("is paused for a contacted runner that is paused, in the list and the details; paused never hides stale or never_contacted", async () => {
    const runner = await runners.group({ tag_list: [TAG], paused: true });
    expect((await call(target, "GET", `/runners/${runner.id}`)).body).toMatchObject({ status: "never_contacted", paused: true });
    expect((await verify(runner.token, "s_paused00001")).status).toBe(200);
    expect((await call(target, "GET", `/runners/${runner.id}`)).body).toMatchObject({ status: "paused", online: true, paused: true });
    const listed = await call(target, "GET", `/runners/all?tag_list=${TAG}&paused=true`);
    expect((listed.body as { id: number; status: string }[]).find((r) => r.id === runner.id)?.status).toBe("paused");
  });
});

describe("GET /runners/:id/jobs with pagination=keyset", () => {
  it("answers the jobs without offset headers and with no next link when nothing follows", async () => {
    const { id } = await runners.group({ tag_list: [TAG] });
    const reply = await call(target, "GET", `/runners/${id}/jobs?pagination=keyset&per_page=2`);
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual([]);
    expect(reply.headers.get("x-total")).toBeNull();
    expect(reply.headers.get("link") ?? "").not.toContain('rel="next"');
  });

  it.skipIf(REAL_GITLAB)(`walks the jobs newest first by following the Link rel=next cursor${NEEDS_CONTROL}`, async () => {
    const { id, token } = await runners.group({ tag_list: [TAG] });
    await verify(token, "s_keyset00001");
    const made: number[] = [];
    for (const name of ["one", "two", "three"]) {
      made.push(((await control(target, "POST", `/runners/${id}/jobs`, { name, system_id: "s_keyset00001" })) as { id: number }).id);
    }
    const first = await call(target, "GET", `/runners/${id}/jobs?pagination=keyset&per_page=2&status=running`);
    expect((first.body as { id: number }[]).map((j) => j.id)).toEqual([made[2], made[1]]);
    expect(first.headers.get("x-total")).toBeNull();
    const next = /<([^>]+)>;\s*rel="next"/.exec(first.headers.get("link") ?? "")?.[1];
    expect(next).toContain("cursor=");
    expect(next).toContain("status=running");
    const res = await fetch(next ?? "", { headers: { "PRIVATE-TOKEN": target.token } });
    expect(((await res.json()) as { id: number }[]).map((j) => j.id)).toEqual([made[0]]);
    expect(res.headers.get("link") ?? "").not.toContain('rel="next"');
  });
});

describe(`GET /runners/:id/jobs${NEEDS_CONTROL}`, () => {
  it.skipIf(REAL_GITLAB)("lists running and finished jobs, filters by status and system_id, newest first, paginated", async () => {
    const { id, token } = await runners.group({ tag_list: [TAG] });
    await verify(token, "s_jobs_a");
    await verify(token, "s_jobs_b");
    const a = (await control(target, "POST", `/runners/${id}/jobs`, { name: "build", system_id: "s_jobs_a" })) as { id: number };
    const b = (await control(target, "POST", `/runners/${id}/jobs`, { name: "deploy", system_id: "s_jobs_b" })) as { id: number };
    const c = (await control(target, "POST", `/runners/${id}/jobs`, { name: "lint", system_id: "s_jobs_a" })) as { id: number };
    await control(target, "POST", `/jobs/${a.id}/finish`, { status: "success" });

    const all = await call(target, "GET", `/runners/${id}/jobs`);
    expect(all.status).toBe(200);
    expect((all.body as { id: number }[]).map((j) => j.id)).toEqual([c.id, b.id, a.id]);
    expect(all.headers.get("x-total")).toBe("3");
    expect((all.body as object[])[2]).toMatchObject({
      id: a.id,
      status: "success",
      name: "build",
      stage: expect.any(String),
      ref: expect.any(String),
      created_at: expect.any(String),
      started_at: expect.any(String),
      finished_at: expect.any(String),
      duration: expect.any(Number),
      pipeline: expect.objectContaining({ id: expect.any(Number) }),
      project: expect.objectContaining({ id: target.projectId }),
    });

    const running = await call(target, "GET", `/runners/${id}/jobs?status=running`);
    expect((running.body as { id: number }[]).map((j) => j.id)).toEqual([c.id, b.id]);
    const onA = await call(target, "GET", `/runners/${id}/jobs?status=running&system_id=s_jobs_a`);
    expect((onA.body as { id: number }[]).map((j) => j.id)).toEqual([c.id]);
    const asc = await call(target, "GET", `/runners/${id}/jobs?sort=asc&per_page=2`);
    expect((asc.body as { id: number }[]).map((j) => j.id)).toEqual([a.id, b.id]);
    expect(asc.headers.get("x-next-page")).toBe("2");

    const managers = (await call(target, "GET", `/runners/${id}/managers`)).body as { system_id: string; job_execution_status: string }[];
    expect(Object.fromEntries(managers.map((m) => [m.system_id, m.job_execution_status]))).toEqual({
      s_jobs_a: "active",
      s_jobs_b: "active",
    });
    await control(target, "POST", `/jobs/${b.id}/finish`, { status: "failed" });
    const after = (await call(target, "GET", `/runners/${id}/managers`)).body as { system_id: string; job_execution_status: string }[];
    expect(after.find((m) => m.system_id === "s_jobs_b")?.job_execution_status).toBe("idle");
  });

  it("rejects an unknown status with 400 and an unknown runner with 404", async () => {
    const { id } = await runners.group({ tag_list: [TAG] });
    expect(await call(target, "GET", `/runners/${id}/jobs?status=sleeping`)).toMatchObject({
      status: 400,
      body: { error: "status does not have a valid value" },
    });
    expect(await call(target, "GET", `/runners/${id}/jobs`)).toMatchObject({ status: 200, body: [] });
    expect(await call(target, "GET", "/runners/999999999/jobs")).toMatchObject({ status: 404, body: { message: "404 Runner Not Found" } });
  });
});
