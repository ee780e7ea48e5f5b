import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";
import { createClient } from "redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness, waitFor } from "../test-support/harness.js";
import { NODES_KEY, PAGES_KEY } from "./count-script.js";
import type { Stats } from "./redis-store.js";

/** The JSON bodies these tests read; fetch types every body as unknown. */
interface ViewsBody {
  page: string;
  views: number;
  node: string;
  replica: string;
}
interface ErrorBody {
  error: string;
}

const PAGES_MAX = 200;
const MAX_CONNECTIONS = 300;
let h: Harness;
const viewsOf = async (page: string) => Number((await redis.zScore(PAGES_KEY, page)) ?? 0);
let redis: ReturnType<typeof createClient>;

beforeAll(async () => {
  // A small page bound and header timeout, so the tests of both finish in seconds.
  h = await startHarness({ PAGES_MAX: String(PAGES_MAX), HEADERS_TIMEOUT_MS: "2000", MAX_CONNECTIONS: String(MAX_CONNECTIONS) });
  redis = createClient({ url: h.redis.url });
  redis.on("error", () => {}); // the outage test stops Redis on purpose; this client reconnects on its own
  await redis.connect();
});

afterAll(async () => {
  await redis?.close();
  await h?.stop();
});

/** A raw request, for what fetch refuses to send (bodies on GET, huge headers). */
function raw(path: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  return new Promise<{ status: number; body: string; headers: Record<string, unknown> }>((resolve, reject) => {
    const req = request(`${h.base}${path}`, { method: options.method ?? "GET", headers: options.headers }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => {
        body += d.toString();
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on("error", reject);
    req.end(options.body);
  });
}

describe("routes", () => {
  it("GET /api/views/:page counts atomically and returns the new count with the serving replica", async () => {
    const first = await (await fetch(`${h.base}/api/views/routes-a`)).json();
    const second = (await (await fetch(`${h.base}/api/views/routes-a?utm=x`)).json()) as ViewsBody;
    expect(first).toEqual({ page: "routes-a", views: 1, node: "testnode", replica: "r1" });
    expect(second.views).toBe(2);
    expect(await viewsOf("routes-a")).toBe(2);
  });

  it("GET / renders the count, the serving node and the per-node chart, and counts a view of home", async () => {
    const res = await fetch(`${h.base}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(res.headers.get("content-security-policy")).toMatch(/style-src 'sha256-/);
    const html = await res.text();
    const views = await viewsOf("home");
    expect(html).toContain(`id="views">${views}</p>`);
    expect(html).toContain('<dd id="node">testnode</dd>');
    expect(html).toMatch(/data-node="testnode" data-views="\d+"/);
  });

  it("GET /api/stats returns counts per page and per node; the total is the per-node counts'", async () => {
    await fetch(`${h.base}/api/views/routes-b`);
    const stats = (await (await fetch(`${h.base}/api/stats`)).json()) as Stats & { servedBy: unknown };
    expect(stats.pages["routes-b"]).toBe(1);
    expect(stats.nodes.testnode).toBe(Number(await redis.hGet(NODES_KEY, "testnode")));
    expect(stats.total).toBe(stats.nodes.testnode);
    expect(stats.servedBy).toEqual({ node: "testnode", replica: "r1" });
  });

  it("/healthz, /readyz and /metrics answer", async () => {
    expect(await (await fetch(`${h.base}/healthz`)).json()).toEqual({ status: "ok" });
    expect(await (await fetch(`${h.base}/readyz`)).json()).toEqual({ status: "ready" });
    const metrics = await (await fetch(`${h.base}/metrics`)).text();
    expect(metrics).toMatch(/counter_http_requests_total\{route="\/api\/views\/:page",status="200"\} \d+/);
    expect(metrics).toContain("counter_http_request_duration_seconds_bucket");
    expect(metrics).toMatch(/counter_redis_batch_duration_seconds_count\{outcome="ok"\} \d+/);
    expect(metrics).toContain("process_cpu_user_seconds_total");
  });

  it("sends security headers on every route, the hot path included, and no x-powered-by", async () => {
    for (const path of ["/", "/api/views/hdr", "/api/stats", "/healthz", "/nope"]) {
      const res = await fetch(`${h.base}${path}`);
      expect(res.headers.get("x-content-type-options"), path).toBe("nosniff");
      expect(res.headers.get("x-frame-options"), path).toBe("DENY");
      expect(res.headers.get("content-security-policy"), path).toContain("default-src 'none'");
      expect(res.headers.get("x-powered-by"), path).toBeNull();
    }
  });

  it("answers unknown paths 404, other methods 405, bodies 413 and huge headers 431, without stack traces", async () => {
    const notFound = await raw("/nope");
    const post = await raw("/api/stats", { method: "POST" });
    const putView = await raw("/api/views/home", { method: "PUT" });
    const body = await raw("/api/views/home", {
      headers: { "content-type": "text/plain", "content-length": "5000" },
      body: "x".repeat(5000),
    });
    const chunked = await raw("/api/views/home", { headers: { "Transfer-Encoding": "chunked" }, body: "x".repeat(100) });
    expect(chunked.status).toBe(413);
    const header = await raw("/healthz", { headers: { "x-big": "y".repeat(20_000) } });
    expect([notFound.status, post.status, putView.status, body.status, header.status]).toEqual([404, 405, 405, 413, 431]);
    for (const r of [notFound, post, putView, body]) expect(r.body).not.toMatch(/\bat .*\.(js|ts):\d+/);
    expect(await redis.zScore(PAGES_KEY, "home")).not.toBeNull();
  });
});

describe("page key validation", () => {
  it.each(["Home", "a%20b", "..%2Fetc", "-x", "x".repeat(65), "a:b", "home/extra"])(
    "refuses %j with 400 and creates no key",
    async (key) => {
      const res = await fetch(`${h.base}/api/views/${key}`);
      expect(res.status).toBe(400);
      expect(((await res.json()) as ErrorBody).error).toContain("page must be 1-64 characters");
      const fields = await redis.zRange(PAGES_KEY, 0, -1);
      expect(fields.every((f) => /^[a-z0-9][a-z0-9_-]{0,63}$/.test(f))).toBe(true);
    },
  );
});

describe("concurrent load", () => {
  it("counts exactly one view per 2xx response, each a distinct number", async () => {
    const result = await autocannon({ url: `${h.base}/api/views/load`, connections: 50, amount: 5000, timeout: 10 });
    expect(result.errors).toBe(0);
    expect(result["2xx"]).toBe(5000);
    expect(await viewsOf("load")).toBe(result["2xx"]);
  });

  it("hands out distinct increasing counts to concurrent requests", async () => {
    const counts = await Promise.all(
      Array.from({ length: 200 }, async () => ((await (await fetch(`${h.base}/api/views/distinct`)).json()) as ViewsBody).views),
    );
    expect(new Set(counts).size).toBe(200);
    expect(Math.min(...counts)).toBe(1);
    expect(Math.max(...counts)).toBe(200);
  });
});

describe("Redis outage", () => {
  it("answers 503 while Redis is down, then recovers without restarting the app", async () => {
    await h.redis.stop();
    await waitFor(async () => (await fetch(`${h.base}/readyz`)).status === 503, 5000, "readyz 503");
    const started = Date.now();
    const down = await fetch(`${h.base}/api/views/outage`);
    expect(down.status).toBe(503);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(down.headers.get("retry-after")).toBe("1");
    expect((await fetch(`${h.base}/api/stats`)).status).toBe(503);
    expect((await fetch(`${h.base}/`)).status).toBe(503);
    expect((await fetch(`${h.base}/healthz`)).status).toBe(200);

    await h.redis.start();
    await waitFor(async () => (await fetch(`${h.base}/readyz`)).status === 200, 10_000, "readyz 200 after Redis restart");
    const up = await fetch(`${h.base}/api/views/outage`);
    expect(up.status).toBe(200);
    expect(((await up.json()) as ViewsBody).views).toBe(1);
  });
});

const say = (line: string) => process.stderr.write(`[app itest] ${line}\n`);
const usedMemory = async () => Number(/used_memory:(\d+)/.exec(await redis.info("memory"))?.[1]);
const eventsLogged = (event: string, from: number) => h.logs.slice(from).filter((l) => l.event === event).length;

/** GETs each path, `parallel` at a time; returns the statuses in order. */
async function getAll(paths: string[], parallel: number): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < paths.length; i += parallel)
    statuses.push(...(await Promise.all(paths.slice(i, i + parallel).map(async (p) => (await fetch(`${h.base}${p}`)).status))));
  return statuses;
}

describe("distinct page names against a Redis near maxmemory with noeviction (issue 13, finding 1)", () => {
  it("keeps counting every page: fresh names evict the coldest pages instead of filling Redis", async () => {
    // 1 MB of other data, made by SETRANGE: a 1 MB SET would leave a 1 MB query buffer in used_memory for a while.
    await redis.setRange("other-data", 999_999, "x");
    // Room for the bounded page set, not for 3,000 more 64-character names.
    const limit = (await usedMemory()) + 256 * 1024;
    await redis.configSet({ maxmemory: String(limit), "maxmemory-policy": "noeviction" });
    try {
      const started = performance.now();
      const fresh = Array.from({ length: 3000 }, (_, i) => `/api/views/${`fresh-${i}-`.padEnd(64, "x")}`);
      const statuses = await getAll(fresh, 50);
      say(
        `3000 fresh page names: ${((performance.now() - started) / 1000).toFixed(1)} s, Redis used ${await usedMemory()} of ${limit} bytes`,
      );
      expect(statuses.filter((s) => s !== 200)).toEqual([]);
      expect((await fetch(`${h.base}/api/views/home`)).status).toBe(200);
      expect((await fetch(`${h.base}/readyz`)).status).toBe(200);
      const stats = (await (await fetch(`${h.base}/api/stats`)).json()) as Stats;
      expect(Object.keys(stats.pages).length).toBeLessThanOrEqual(PAGES_MAX);
      expect(stats.pages.home).toBeGreaterThan(0);
      expect(await usedMemory()).toBeLessThan(limit);
    } finally {
      await redis.configSet("maxmemory", "0");
      await redis.del("other-data");
    }
  });

  it("/readyz answers 503 while Redis refuses every write, and the app logs it once per change, not per request", async () => {
    const from = h.logs.length;
    await redis.configSet({ maxmemory: "1", "maxmemory-policy": "noeviction" });
    try {
      const statuses = await getAll(
        Array.from({ length: 20 }, () => "/api/views/refused"),
        5,
      );
      expect(statuses).toEqual(Array.from({ length: 20 }, () => 503));
      const body = (await (await fetch(`${h.base}/api/views/refused`)).json()) as { counted: unknown };
      expect(body.counted).toBe(false);
      const ready = await fetch(`${h.base}/readyz`);
      expect(ready.status).toBe(503);
      expect(((await ready.json()) as { reason: string }).reason).toMatch(/^Redis does not take writes: OOM/);
    } finally {
      await redis.configSet("maxmemory", "0");
    }
    await waitFor(async () => (await fetch(`${h.base}/readyz`)).status === 200, 5000, "readyz 200 once Redis takes writes");
    expect((await fetch(`${h.base}/api/views/refused`)).status).toBe(200);
    expect(eventsLogged("redis.writes.failing", from)).toBe(1);
    expect(eventsLogged("redis.writes.ok", from)).toBe(1);
    expect(await viewsOf("refused")).toBe(1);
  });
});

describe("a stalled Redis (issue 13, finding 7)", () => {
  it("CLIENT PAUSE 5 s under load: every 503 says not counted and is not, every 200 is counted exactly once", async () => {
    const page = "stall";
    const results: Array<{ status: number; views?: number; counted?: unknown; ms: number }> = [];
    let stop = false;
    const worker = async () => {
      while (!stop) {
        const started = performance.now();
        const res = await fetch(`${h.base}/api/views/${page}`);
        const body = (await res.json()) as { views?: number; counted?: unknown };
        results.push({ status: res.status, views: body.views, counted: body.counted, ms: performance.now() - started });
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    const workers = Array.from({ length: 25 }, worker);
    await new Promise((r) => setTimeout(r, 500));
    await redis.sendCommand(["CLIENT", "PAUSE", "5000", "ALL"]);
    const pausedAt = performance.now();
    const until = (ms: number) => new Promise((r) => setTimeout(r, ms - (performance.now() - pausedAt)));
    await until(1000);
    // A pause shorter than REDIS_TIMEOUT_MS keeps the app in the balancer's rotation; a longer one takes it out.
    const readyEarly = (await fetch(`${h.base}/readyz`)).status;
    await until(4000);
    const readyLate = (await fetch(`${h.base}/readyz`)).status;
    await until(6500);
    stop = true;
    await Promise.all(workers);
    await waitFor(async () => (await fetch(`${h.base}/readyz`)).status === 200, 5000, "readyz 200 after the pause");
    const counted = await viewsOf(page);
    const ok = results.filter((r) => r.status === 200);
    const unavailable = results.filter((r) => r.status === 503);
    say(
      `paused 5 s: ${results.length} requests, ${ok.length} × 200, ${unavailable.length} × 503 (slowest ${Math.max(...unavailable.map((r) => r.ms)).toFixed(0)} ms), counted ${counted}`,
    );
    expect([readyEarly, readyLate]).toEqual([200, 503]);
    expect(unavailable.length).toBeGreaterThan(0);
    expect(results.length).toBe(ok.length + unavailable.length);
    expect(unavailable.every((r) => r.counted === false)).toBe(true);
    expect(counted).toBe(ok.length);
    expect(ok.map((r) => r.views).sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual(ok.map((_, i) => i + 1));
  });
});

describe("slow clients (issue 13, finding 6)", () => {
  it("cuts a client that sends its request head one byte a second within HEADERS_TIMEOUT_MS (2 s here) and the 1 s check", async () => {
    const socket = connect(h.app.port, "127.0.0.1");
    const started = performance.now();
    let answer = "";
    socket.on("data", (d: Buffer) => {
      answer += d.toString();
    });
    socket.on("error", () => {});
    const closed = new Promise<number>((resolve) => socket.on("close", () => resolve(performance.now() - started)));
    socket.write("GET /healthz HTTP/1.1\r\nHost: counter\r\nX-Slow: ");
    const drip = setInterval(() => socket.write("a"), 1000);
    const ms = await Promise.race([closed, new Promise<number>((r) => setTimeout(() => r(Number.POSITIVE_INFINITY), 10_000))]);
    clearInterval(drip);
    socket.destroy();
    say(`slow-header client cut after ${ms.toFixed(0)} ms`);
    expect(ms).toBeLessThan(5000);
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
  });
});

describe("connection limit (issue 13, finding 6)", () => {
  it("closes connections beyond MAX_CONNECTIONS at once", async () => {
    const sockets = Array.from({ length: MAX_CONNECTIONS + 20 }, () => connect(h.app.port, "127.0.0.1").on("error", () => {}));
    let closed = 0;
    for (const s of sockets) s.on("close", () => closed++);
    await new Promise((r) => setTimeout(r, 1000));
    const open = sockets.length - closed;
    for (const s of sockets) s.destroy();
    say(`${sockets.length} idle connections: ${closed} closed by the server within 1 s`);
    expect(closed).toBeGreaterThanOrEqual(20);
    expect(open).toBeLessThanOrEqual(MAX_CONNECTIONS);
  });
});

describe("the Redis password (REDIS_PASSWORD_FILE; issue 13 item 14)", () => {
  it("logs in as default before Redis requires the password and after: counting goes on across a reconnect", async () => {
    const dir = await mkdtemp(join(tmpdir(), "pifleet-redis-password-"));
    const password = "Zq3vR8kLm2Xw9Tb4Np7Hc1Yd6Fg5Js0Ua8Ke3Wi2";
    await writeFile(join(dir, "redis-password"), `${password}\n`, { mode: 0o600 });
    const locked = await startHarness({ REDIS_PASSWORD_FILE: join(dir, "redis-password") });
    const admin = createClient({ url: locked.redis.url });
    admin.on("error", () => {});
    try {
      await admin.connect();
      const count = async () => (await fetch(`${locked.base}/api/views/locked`)).status;
      // Redis has no password yet: the app's login as default with one is let in.
      expect(await count()).toBe(200);
      await admin.configSet("requirepass", password);
      expect(await count()).toBe(200);
      // Every connection dropped: the app's new one must log in with the password.
      await admin.sendCommand(["CLIENT", "KILL", "TYPE", "normal"]);
      await waitFor(async () => (await count()) === 200, 10_000, "counting after the reconnect");
      const bare = createClient({ url: locked.redis.url });
      bare.on("error", () => {});
      await bare.connect();
      await expect(bare.ping()).rejects.toThrow(/NOAUTH/);
      await bare.close().catch(() => {});
      expect(JSON.stringify(locked.logs)).not.toContain(password);
    } finally {
      await admin.close().catch(() => {});
      await locked.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
