import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GitlabEmulator, startGitlabEmulator } from "./index.js";

// Status is derived from timestamps at request time: with an injected clock, time passing alone
// moves a runner from online to offline to stale, as it does in GitLab.
let clock = new Date("2026-03-01T08:00:00.000Z");
let gl: GitlabEmulator;
const advance = (ms: number) => {
  clock = new Date(clock.getTime() + ms);
};
const HOUR = 3_600_000;

beforeAll(async () => {
  gl = await startGitlabEmulator({ now: () => clock });
});
afterAll(async () => {
  await gl.close();
});

async function api(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${gl.url}/api/v4${path}`, {
    method,
    headers: { "PRIVATE-TOKEN": gl.adminToken, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return (await res.json()) as Record<string, unknown>;
}

describe("status as time passes", () => {
  it("online → offline after 2 h → stale after 7 days; never contacted → stale after 7 days", async () => {
    const contacted = await api("POST", "/user/runners", { runner_type: "instance_type" });
    const never = await api("POST", "/user/runners", { runner_type: "instance_type" });
    await api("POST", "/runners/verify", { token: contacted.token, system_id: "s_clock" });
    const status = async (id: unknown) => (await api("GET", `/runners/${id}`)).status;

    expect(await status(contacted.id)).toBe("online");
    expect(await status(never.id)).toBe("never_contacted");
    advance(2 * HOUR - 1000);
    expect(await status(contacted.id)).toBe("online");
    advance(2000);
    expect(await status(contacted.id)).toBe("offline");
    advance(7 * 24 * HOUR);
    expect(await status(contacted.id)).toBe("stale");
    expect(await status(never.id)).toBe("stale");
    const managers = (await (
      await fetch(`${gl.url}/api/v4/runners/${contacted.id}/managers`, { headers: { "PRIVATE-TOKEN": gl.adminToken } })
    ).json()) as { status: string }[];
    expect(managers.map((m) => m.status)).toEqual(["stale"]);
  });
});
