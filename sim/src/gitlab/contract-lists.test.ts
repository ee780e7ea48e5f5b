import { randomBytes } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { call, useContractTarget } from "./test-support/target.js";

// GitLab contract: the four runner lists, their filters and offset pagination.
// Every runner here carries a tag unique to this run, so the same assertions hold on a busy real GitLab.
const { target, runners } = useContractTarget();
const TAG = `lists-${randomBytes(4).toString("hex")}`;
const ids: Record<string, number> = {};

beforeAll(async () => {
  ids.group = (await runners.group({ tag_list: [TAG, "arm64"] })).id;
  ids.groupPaused = (await runners.group({ tag_list: [TAG], paused: true })).id;
  ids.project = (await runners.create({ runner_type: "project_type", project_id: target.projectId, tag_list: [TAG] })).id;
  ids.instance = (await runners.create({ runner_type: "instance_type", tag_list: [TAG, "arm64"] })).id;
});

type Listed = { id: number; runner_type: string; paused: boolean; status: string; description: string };
const listIds = async (path: string) => {
  const reply = await call(target, "GET", path);
  expect(reply.status, `${path}: ${JSON.stringify(reply.body)}`).toBe(200);
  return (reply.body as Listed[]).map((r) => r.id).sort((a, b) => a - b);
};
const sorted = (...xs: (number | undefined)[]) => xs.map(Number).sort((a, b) => a - b);

describe("list endpoints", () => {
  it("GET /runners/all lists every runner with GitLab's list fields", async () => {
    const reply = await call(target, "GET", `/runners/all?tag_list=${TAG}`);
    expect(reply.status).toBe(200);
    const entry = (reply.body as Listed[]).find((r) => r.id === ids.instance);
    expect(entry).toMatchObject({
      id: ids.instance,
      description: expect.any(String),
      ip_address: null,
      active: true,
      paused: false,
      is_shared: true,
      runner_type: "instance_type",
      online: false,
      status: "never_contacted",
      job_execution_status: "idle",
      created_by: expect.objectContaining({ id: expect.any(Number), username: expect.any(String), web_url: expect.any(String) }),
      created_at: expect.any(String),
    });
    expect(entry).toHaveProperty("name");
    const self = (await call(target, "GET", "/user")).body as { id: number };
    expect((entry as unknown as { created_by: { id: number } }).created_by.id).toBe(self.id);
    expect(await listIds(`/runners/all?tag_list=${TAG}`)).toEqual(sorted(ids.group, ids.groupPaused, ids.project, ids.instance));
  });

  it("GET /runners lists owned runners: group and project runners, not instance runners", async () => {
    expect(await listIds(`/runners?tag_list=${TAG}`)).toEqual(sorted(ids.group, ids.groupPaused, ids.project));
  });

  it("GET /groups/:id/runners lists the group's runners and the instance runners it may use", async () => {
    expect(await listIds(`/groups/${target.groupId}/runners?tag_list=${TAG}`)).toEqual(sorted(ids.group, ids.groupPaused, ids.instance));
  });

  it("GET /projects/:id/runners lists project, group and instance runners", async () => {
    expect(await listIds(`/projects/${target.projectId}/runners?tag_list=${TAG}`)).toEqual(
      sorted(ids.group, ids.groupPaused, ids.project, ids.instance),
    );
  });

  it("GET /projects/:id/runners leaves out instance runners while the project has shared runners disabled", async () => {
    const path = `/projects/${target.projectId}/runners?tag_list=${TAG}`;
    const off = await call(target, "PUT", `/projects/${target.projectId}`, { body: { shared_runners_enabled: false } });
    expect(off.status).toBe(200);
    expect(off.body).toMatchObject({ id: target.projectId, shared_runners_enabled: false });
    try {
      expect(await listIds(path)).toEqual(sorted(ids.group, ids.groupPaused, ids.project));
    } finally {
      await call(target, "PUT", `/projects/${target.projectId}`, { body: { shared_runners_enabled: true } });
    }
    expect(await listIds(path)).toEqual(sorted(ids.group, ids.groupPaused, ids.project, ids.instance));
  });

  it("unknown groups and projects are 404 with GitLab's bodies", async () => {
    expect(await call(target, "GET", "/groups/999999999/runners")).toMatchObject({ status: 404, body: { message: "404 Group Not Found" } });
    expect(await call(target, "GET", "/projects/999999999/runners")).toMatchObject({
      status: 404,
      body: { message: "404 Project Not Found" },
    });
  });
});

describe("filters", () => {
  it("type", async () => {
    expect(await listIds(`/runners/all?tag_list=${TAG}&type=group_type`)).toEqual(sorted(ids.group, ids.groupPaused));
    expect(await listIds(`/groups/${target.groupId}/runners?tag_list=${TAG}&type=instance_type`)).toEqual([ids.instance]);
  });

  it("paused, and the deprecated status=paused/active", async () => {
    expect(await listIds(`/runners/all?tag_list=${TAG}&paused=true`)).toEqual([ids.groupPaused]);
    expect(await listIds(`/runners/all?tag_list=${TAG}&status=paused`)).toEqual([ids.groupPaused]);
    expect(await listIds(`/runners/all?tag_list=${TAG}&paused=false`)).toEqual(sorted(ids.group, ids.project, ids.instance));
  });

  it("status: new runners are never_contacted, none online", async () => {
    expect(await listIds(`/runners/all?tag_list=${TAG}&status=never_contacted`)).toHaveLength(4);
    expect(await listIds(`/runners/all?tag_list=${TAG}&status=online`)).toEqual([]);
    expect(await listIds(`/runners/all?tag_list=${TAG}&status=offline`)).toEqual([]);
  });

  it("tag_list matches runners carrying all the tags", async () => {
    expect(await listIds(`/runners/all?tag_list=${TAG},arm64`)).toEqual(sorted(ids.group, ids.instance));
    expect(await listIds(`/runners/all?tag_list=${TAG},arm64,nope`)).toEqual([]);
  });

  it.each([
    ["type=cluster_type", { error: "type does not have a valid value" }],
    ["status=sleeping", { error: "status does not have a valid value" }],
    ["paused=maybe", { error: "paused is invalid" }],
    ["scope=sleeping", { error: "scope does not have a valid value" }],
  ])("rejects %s with 400 %o", async (query, body) => {
    const reply = await call(target, "GET", `/runners/all?${query}`);
    expect(reply.status).toBe(400);
    expect(reply.body).toEqual(body);
  });
});

describe("the deprecated scope parameter", () => {
  it("GET /runners takes the status scopes, stale and never_contacted included, and refuses the type scopes", async () => {
    expect(await listIds(`/runners?tag_list=${TAG}&scope=never_contacted`)).toEqual(sorted(ids.group, ids.groupPaused, ids.project));
    expect(await listIds(`/runners?tag_list=${TAG}&scope=stale`)).toEqual([]);
    expect(await listIds(`/runners?tag_list=${TAG}&scope=paused`)).toEqual([ids.groupPaused]);
    const typeScope = await call(target, "GET", `/runners?scope=specific`);
    expect(typeScope.status).toBe(400);
    expect(typeScope.body).toEqual({ message: "Scope contains invalid value" });
  });

  it("GET /projects/:id/runners takes scope=specific|shared", async () => {
    const path = `/projects/${target.projectId}/runners?tag_list=${TAG}`;
    expect(await listIds(`${path}&scope=specific`)).toEqual(sorted(ids.group, ids.groupPaused, ids.project));
    expect(await listIds(`${path}&scope=shared`)).toEqual([ids.instance]);
  });

  it("GET /runners/all takes type and status scopes, and scope narrows the type filter rather than replacing it", async () => {
    expect(await listIds(`/runners/all?tag_list=${TAG}&scope=project_type`)).toEqual([ids.project]);
    expect(await listIds(`/runners/all?tag_list=${TAG}&scope=shared&type=group_type`)).toEqual([]);
  });

  it("GET /groups/:id/runners does not declare scope: any value, even an unknown one, is ignored", async () => {
    const all = sorted(ids.group, ids.groupPaused, ids.instance);
    expect(await listIds(`/groups/${target.groupId}/runners?tag_list=${TAG}&scope=shared`)).toEqual(all);
    expect(await listIds(`/groups/${target.groupId}/runners?tag_list=${TAG}&scope=sleeping`)).toEqual(all);
  });
});

describe("pagination", () => {
  const header = (h: Headers, name: string) => h.get(name);
  const links = (h: Headers) =>
    Object.fromEntries(
      (h.get("link") ?? "")
        .split(/,\s*/)
        .filter(Boolean)
        .map((l) => {
          const [, url, rel] = /^<([^>]+)>;\s*rel="(\w+)"$/.exec(l.trim()) ?? [];
          return [rel ?? "", url ?? ""];
        }),
    );

  it("walks 4 runners 3 per page with x-* headers and a Link header that can be followed", async () => {
    const first = await call(target, "GET", `/runners/all?tag_list=${TAG}&per_page=3`);
    expect(first.status).toBe(200);
    expect(first.body).toHaveLength(3);
    expect(header(first.headers, "x-total")).toBe("4");
    expect(header(first.headers, "x-total-pages")).toBe("2");
    expect(header(first.headers, "x-page")).toBe("1");
    expect(header(first.headers, "x-per-page")).toBe("3");
    expect(header(first.headers, "x-next-page")).toBe("2");
    expect(header(first.headers, "x-prev-page")).toBe("");
    const next = links(first.headers).next;
    expect(next).toContain(`tag_list=${TAG}`);
    expect(links(first.headers)).toHaveProperty("first");
    expect(links(first.headers)).toHaveProperty("last");

    const res = await fetch(next ?? "", { headers: { "PRIVATE-TOKEN": target.token } });
    const second = (await res.json()) as Listed[];
    expect(second).toHaveLength(1);
    expect(res.headers.get("x-page")).toBe("2");
    expect(res.headers.get("x-next-page")).toBe("");
    expect(res.headers.get("x-prev-page")).toBe("1");
    const seen = [...(first.body as Listed[]), ...second].map((r) => r.id).sort((a, b) => a - b);
    expect(seen).toEqual(sorted(ids.group, ids.groupPaused, ids.project, ids.instance));
  });

  it("defaults per_page to 20 and caps it at 100", async () => {
    expect(header((await call(target, "GET", "/runners/all")).headers, "x-per-page")).toBe("20");
    expect(header((await call(target, "GET", "/runners/all?per_page=500")).headers, "x-per-page")).toBe("100");
  });

  it("paginates the group, project and owned lists too", async () => {
    for (const [path, total] of [
      [`/runners`, "3"],
      [`/groups/${target.groupId}/runners`, "3"],
      [`/projects/${target.projectId}/runners`, "4"],
    ] as const) {
      const reply = await call(target, "GET", `${path}?tag_list=${TAG}&per_page=1&page=2`);
      expect(reply.body, path).toHaveLength(1);
      expect(header(reply.headers, "x-page")).toBe("2");
      expect(header(reply.headers, "x-total")).toBe(total);
      expect(header(reply.headers, "x-prev-page")).toBe("1");
    }
  });
});
