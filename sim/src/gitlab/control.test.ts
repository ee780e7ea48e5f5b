import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { controlHeaders, readControlSecret } from "./control-secret.js";
import { startGitlabEmulator } from "./index.js";
import { call, control, useContractTarget } from "./test-support/target.js";

// The emulator's control API: fault injection and the request counter. It tests the emulator
// itself, so it always runs against the in-process emulator, even when GITLAB_URL is set.
const { target } = useContractTarget({ emulator: true });
beforeEach(async () => {
  await control(target, "DELETE", "/faults");
});

describe("fault injection", () => {
  it("answers the next N requests with the status, then recovers", async () => {
    await control(target, "POST", "/faults", { kind: "status", status: 503, count: 2 });
    expect(await call(target, "GET", "/user")).toMatchObject({ status: 503, body: { message: "503 Service Unavailable" } });
    expect((await call(target, "GET", "/runners")).status).toBe(503);
    expect((await call(target, "GET", "/user")).status).toBe(200);
  });

  it("429 carries Retry-After, as GitLab's rate limiter does", async () => {
    await control(target, "POST", "/faults", { kind: "status", status: 429, retry_after: 7 });
    const reply = await call(target, "GET", "/user");
    expect(reply.status).toBe(429);
    expect(reply.headers.get("retry-after")).toBe("7");
    expect(reply.body).toBe("Retry later\n");
  });

  it("only hits matching method and path prefix", async () => {
    await control(target, "POST", "/faults", { kind: "status", status: 500, method: "PUT", path_prefix: "/runners" });
    expect((await call(target, "GET", "/runners")).status).toBe(200);
    expect((await call(target, "PUT", "/runners/999", { body: { paused: true } })).status).toBe(500);
  });

  it("adds latency and then serves the request", async () => {
    await control(target, "POST", "/faults", { kind: "latency", delay_ms: 300 });
    const started = Date.now();
    expect((await call(target, "GET", "/user")).status).toBe(200);
    // The delay is a behaviour of the fault, not a benchmark: the request must not come back sooner.
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  it("drops the connection without an answer", async () => {
    await control(target, "POST", "/faults", { kind: "drop" });
    await expect(call(target, "GET", "/user")).rejects.toThrow(/fetch failed/);
    expect((await call(target, "GET", "/user")).status).toBe(200);
  });

  it("lists pending faults and rejects an unknown kind", async () => {
    await control(target, "POST", "/faults", { kind: "status", status: 502, count: 3 });
    expect(await control(target, "GET", "/faults")).toEqual([expect.objectContaining({ kind: "status", status: 502, remaining: 3 })]);
    await expect(control(target, "POST", "/faults", { kind: "explode" })).rejects.toThrow(/HTTP 400/);
  });
});

describe("request log", () => {
  it("counts /api/v4 requests per method and path, with statuses; the control API is not counted", async () => {
    await control(target, "DELETE", "/requests");
    await call(target, "GET", "/user");
    await call(target, "GET", "/user");
    await call(target, "GET", "/runners?per_page=5");
    await call(target, "GET", "/user", { token: null });
    await call(target, "GET", "/runners/41");
    await call(target, "GET", "/runners/42");
    await control(target, "GET", "/faults");
    const log = (await control(target, "GET", "/requests")) as {
      total: number;
      byEndpoint: Record<string, number>;
      byRoute: Record<string, number>;
      recent: { method: string; path: string; status: number }[];
    };
    expect(log.total).toBe(6);
    expect(log.byEndpoint).toEqual({ "GET /user": 3, "GET /runners": 1, "GET /runners/41": 1, "GET /runners/42": 1 });
    expect(log.byRoute).toEqual({ "GET /user": 3, "GET /runners": 1, "GET /runners/:id": 2 });
    expect(log.recent.map((r) => r.status)).toEqual([200, 200, 200, 401, 404, 404]);
  });
});

describe("control API errors", () => {
  it("names what is wrong", async () => {
    await expect(control(target, "POST", "/tokens", { scopes: ["sudo"] })).rejects.toThrow(/unknown: sudo/);
    await expect(control(target, "POST", "/runners/424242/status", { status: "online" })).rejects.toThrow(/HTTP 404/);
    await expect(control(target, "POST", "/jobs/424242/finish", {})).rejects.toThrow(/HTTP 404/);
  });
});

describe("who may use the control API (issue 13 item 14)", () => {
  // A CI job on a sim node reaches the gateway the emulator listens on, and may hold an admin `api`
  // token (`sim push` puts them in project variables): neither may open /-/sim.
  const raw = (method: string, path: string, headers: Record<string, string> = {}, body?: unknown) =>
    fetch(`${target.url}/-/sim${path}`, {
      method,
      headers: { ...headers, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  it("answers 401 without the secret, with a wrong one, or with the admin's GitLab token — for every route", async () => {
    const refusals: Array<[string, string, Record<string, string>]> = [
      ["POST", "/tokens", {}],
      ["POST", "/tokens", { "X-Pifleet-Sim-Control": "0".repeat(64) }],
      ["POST", "/tokens", { "X-Pifleet-Sim-Control": `${target.controlSecret}x` }],
      ["POST", "/tokens", { "PRIVATE-TOKEN": target.token }],
      ["POST", "/tokens", { Authorization: `Bearer ${target.controlSecret}` }],
      ["GET", "/info", {}],
      ["GET", "/requests", {}],
      ["POST", "/faults", { "PRIVATE-TOKEN": target.token }],
      ["GET", "/jobs/1", {}],
      ["POST", "/runners/1/contact", {}],
    ];
    for (const [method, path, headers] of refusals) {
      const res = await raw(method, path, headers, method === "POST" ? { scopes: ["api"] } : undefined);
      const body = (await res.json()) as { message: string; error: string };
      expect([method, path, res.status, body.message]).toEqual([method, path, 401, "401 Unauthorized"]);
      // It says where the owner finds the secret, and never echoes it.
      expect(body.error).toContain("X-Pifleet-Sim-Control");
      expect(JSON.stringify(body)).not.toContain(target.controlSecret);
    }
    expect(await control(target, "GET", "/faults")).toEqual([]);
  });

  it("mints tokens from a JSON body only: parameters in the query string are a 400 and mint nothing", async () => {
    const secret = { "X-Pifleet-Sim-Control": target.controlSecret ?? "" };
    const res = await raw("POST", "/tokens?scopes=api", secret);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/JSON body only, not the query string \(got scopes\)/);
    const minted = await raw("POST", "/tokens", secret, { scopes: ["read_api"] });
    expect(minted.status).toBe(201);
  });

  it("each emulator makes its own secret, written 0600 to its state dir", async () => {
    const stateDir = mkdtempSync(join(tmpdir(), "pifleet-control-secret-"));
    try {
      const emu = await startGitlabEmulator({ stateDir });
      try {
        expect(emu.controlSecret).toMatch(/^[0-9a-f]{64}$/);
        expect(emu.controlSecret).not.toBe(target.controlSecret);
        expect(emu.controlSecretFile).toBe(join(stateDir, "control-secret"));
        expect(statSync(emu.controlSecretFile ?? "").mode & 0o777).toBe(0o600);
        expect(readControlSecret(emu.controlSecretFile ?? "")).toBe(emu.controlSecret);
        const info = await fetch(`${emu.url}/-/sim/info`, { headers: controlHeaders(emu.controlSecret) });
        expect(info.status).toBe(200);
        // The other emulator's secret does not open this one.
        const other = await fetch(`${emu.url}/-/sim/info`, { headers: controlHeaders(target.controlSecret ?? "") });
        expect(other.status).toBe(401);
      } finally {
        await emu.close();
      }
      // An emulator that wrote none (an older one): the client says what to do, exit 3.
      const missing = join(stateDir, "no-such-secret");
      expect(() => readControlSecret(missing)).toThrow(expect.objectContaining({ exitCode: 3, message: expect.stringContaining(missing) }));
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});
