import { request } from "node:http";
import autocannon from "autocannon";
import { createClient } from "redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness, waitFor } from "../test-support/harness.js";
import { NODES_KEY, type Stats, VIEWS_KEY } from "./redis-store.js";

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

let h: Harness;
let redis: ReturnType<typeof createClient>;

beforeAll(async () => {
  h = await startHarness();
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
    expect(await redis.hGet(VIEWS_KEY, "routes-a")).toBe("2");
  });

  it("GET / renders the count, the serving node and the per-node chart, and counts a view of home", async () => {
    const res = await fetch(`${h.base}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(res.headers.get("content-security-policy")).toMatch(/style-src 'sha256-/);
    const html = await res.text();
    const views = Number(await redis.hGet(VIEWS_KEY, "home"));
    expect(html).toContain(`id="views">${views}</p>`);
    expect(html).toContain('<dd id="node">testnode</dd>');
    expect(html).toMatch(/data-node="testnode" data-views="\d+"/);
  });

  it("GET /api/stats returns counts per page and per node", async () => {
    await fetch(`${h.base}/api/views/routes-b`);
    const stats = (await (await fetch(`${h.base}/api/stats`)).json()) as Stats & { servedBy: unknown };
    expect(stats.pages["routes-b"]).toBe(1);
    expect(stats.nodes.testnode).toBe(Number(await redis.hGet(NODES_KEY, "testnode")));
    expect(stats.total).toBe(Object.values(stats.pages as Record<string, number>).reduce((a, b) => a + b, 0));
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
    expect(await redis.hGet(VIEWS_KEY, "home")).not.toBeNull();
  });
});

describe("page key validation", () => {
  it.each(["Home", "a%20b", "..%2Fetc", "-x", "x".repeat(65), "a:b", "home/extra"])(
    "refuses %j with 400 and creates no key",
    async (key) => {
      const res = await fetch(`${h.base}/api/views/${key}`);
      expect(res.status).toBe(400);
      expect(((await res.json()) as ErrorBody).error).toContain("page must be 1-64 characters");
      const fields = await redis.hKeys(VIEWS_KEY);
      expect(fields.every((f) => /^[a-z0-9][a-z0-9_-]{0,63}$/.test(f))).toBe(true);
    },
  );
});

describe("concurrent load", () => {
  it("counts exactly one view per 2xx response, each a distinct number", async () => {
    const result = await autocannon({ url: `${h.base}/api/views/load`, connections: 50, amount: 5000, timeout: 10 });
    expect(result.errors).toBe(0);
    expect(result["2xx"]).toBe(5000);
    expect(Number(await redis.hGet(VIEWS_KEY, "load"))).toBe(result["2xx"]);
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
