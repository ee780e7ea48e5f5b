import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { manualClock } from "./clock.js";
import {
  DEFAULT_RETRY,
  GitlabHttpError,
  GitlabNetworkError,
  gitlabApiUrl,
  gitlabTransport,
  isRetryable,
  mayHaveReachedGitlab,
  parseRetryAfter,
  retryDelay,
  withRetry,
} from "./gitlab.js";
import { Secret } from "./secret.js";

const TOKEN = "glpat-unit-test-token-0123456789";

describe("parseRetryAfter", () => {
  const now = Date.parse("2026-01-01T00:00:00Z");

  it("reads delay-seconds", () => {
    expect(parseRetryAfter("3", now)).toBe(3000);
    expect(parseRetryAfter(" 1.5 ", now)).toBe(1500);
    expect(parseRetryAfter("0", now)).toBe(0);
  });

  it("reads an HTTP date, a past one as 0", () => {
    expect(parseRetryAfter("Thu, 01 Jan 2026 00:00:10 GMT", now)).toBe(10_000);
    expect(parseRetryAfter("Wed, 31 Dec 2025 23:00:00 GMT", now)).toBe(0);
  });

  it("reads a negative number as 0 (retryDelay applies its minimum)", () => {
    expect(parseRetryAfter("-5", now)).toBe(0);
    expect(parseRetryAfter(" -0.5 ", now)).toBe(0);
  });

  it("ignores absent and garbage values", () => {
    for (const v of [undefined, null, "", "  ", "--5", "NaN", "soon", "1e3", "Infinity", "12abc", "0x10", "1 2"]) {
      expect(parseRetryAfter(v, now)).toBeUndefined();
    }
  });
});

describe("retryDelay", () => {
  const policy = { attempts: 5, baseDelayMs: 100, maxDelayMs: 1000, maxRetryAfterMs: 5000 };

  it("follows Retry-After, bounded by maxRetryAfterMs", () => {
    expect(retryDelay(new GitlabHttpError("GET", "/x", 429, "", 2000), 0, policy)).toBe(2000);
    expect(retryDelay(new GitlabHttpError("GET", "/x", 429, "", 3_600_000), 0, policy)).toBe(5000);
  });

  it("never retries back-to-back: a Retry-After of 0 or a past date waits baseDelayMs at least, growing with the attempt", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    for (const header of ["0", "0.01", "-5", "Wed, 31 Dec 2025 23:00:00 GMT"]) {
      const err = new GitlabHttpError("GET", "/x", 429, "", parseRetryAfter(header, now));
      expect(retryDelay(err, 0, policy)).toBe(100);
      expect(retryDelay(err, 2, policy)).toBe(200);
      expect(retryDelay(err, 10, policy)).toBe(500);
    }
  });

  it("backs off exponentially up to maxDelayMs, never below half the ceiling", () => {
    const err = new GitlabHttpError("GET", "/x", 503, "");
    expect(retryDelay(err, 0, policy, () => 0)).toBe(50);
    expect(retryDelay(err, 2, policy, () => 1)).toBe(400);
    expect(retryDelay(err, 10, policy, () => 1)).toBe(1000);
  });
});

describe("isRetryable", () => {
  it("retries 429, 5xx and network errors only", () => {
    expect(isRetryable(new GitlabHttpError("GET", "/", 429, ""))).toBe(true);
    expect(isRetryable(new GitlabHttpError("GET", "/", 502, ""))).toBe(true);
    expect(isRetryable(new GitlabNetworkError("GET", "/", "ECONNRESET"))).toBe(true);
    expect(isRetryable(new GitlabHttpError("GET", "/", 404, ""))).toBe(false);
    expect(isRetryable(new Error("other"))).toBe(false);
  });
});

describe("withRetry", () => {
  it("retries until success, waiting on the given clock", async () => {
    const clock = manualClock();
    let calls = 0;
    const retries: number[] = [];
    const result = await withRetry(
      async () => {
        calls++;
        if (calls < 3) throw new GitlabHttpError("GET", "/x", 503, "busy");
        return "ok";
      },
      { ...DEFAULT_RETRY, baseDelayMs: 100 },
      { clock, random: () => 0, onRetry: (_e, attempt) => retries.push(attempt) },
    );
    expect(result).toBe("ok");
    expect(clock.sleeps).toEqual([50, 100]);
    expect(retries).toEqual([1, 2]);
  });

  it("throws the last error after the attempts are used, and a non-retryable one at once", async () => {
    const clock = manualClock();
    let calls = 0;
    const failing = async () => {
      calls++;
      throw new GitlabHttpError("GET", "/x", 500, "boom");
    };
    await expect(withRetry(failing, { ...DEFAULT_RETRY, attempts: 3 }, { clock })).rejects.toThrow(/answered 500: boom/);
    expect(calls).toBe(3);
    calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw new GitlabHttpError("GET", "/x", 403, "no");
        },
        DEFAULT_RETRY,
        { clock },
      ),
    ).rejects.toThrow(/403/);
    expect(calls).toBe(1);
  });
});

describe("gitlabApiUrl", () => {
  it("adds /api/v4 once", () => {
    expect(gitlabApiUrl("https://gitlab.example.com/")).toBe("https://gitlab.example.com/api/v4");
    expect(gitlabApiUrl("https://gitlab.example.com/api/v4/")).toBe("https://gitlab.example.com/api/v4");
    expect(gitlabApiUrl("http://127.0.0.1:8080/gitlab")).toBe("http://127.0.0.1:8080/gitlab/api/v4");
  });
});

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

let server: Server | undefined;

afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** A GitLab stand-in on loopback; answers with handler, one request at a time. */
async function gitlab(
  handler: Handler,
): Promise<{ url: string; requests: { method: string; url: string; headers: IncomingMessage["headers"]; body: string }[] }> {
  const requests: { method: string; url: string; headers: IncomingMessage["headers"]; body: string }[] = [];
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => {
      body += d;
    });
    req.on("end", () => {
      requests.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
      handler(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, requests };
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
};

const auth = { header: "PRIVATE-TOKEN" as const, token: new Secret(TOKEN) };

describe("gitlabTransport", () => {
  it("sends the token header and JSON body, and parses the answer", async () => {
    const { url, requests } = await gitlab((_req, res) => json(res, 201, { id: 7 }));
    const t = gitlabTransport({ url, auth });
    const res = await t.request<{ id: number }>("POST", "/projects/a%2Fb/notes", {
      body: { body: "hi" },
      query: { tags: ["x", "y"], skip: undefined },
    });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ id: 7 });
    expect(requests[0]?.url).toBe("/api/v4/projects/a%2Fb/notes?tags%5B%5D=x&tags%5B%5D=y");
    expect(requests[0]?.headers["private-token"]).toBe(TOKEN);
    expect(JSON.parse(requests[0]?.body ?? "")).toEqual({ body: "hi" });
  });

  it("retries a 429 after Retry-After, then succeeds", async () => {
    let n = 0;
    const { url } = await gitlab((_req, res) =>
      n++ === 0 ? json(res, 429, { message: "slow down" }, { "retry-after": "2" }) : json(res, 200, []),
    );
    const clock = manualClock();
    const t = gitlabTransport({ url, auth, clock });
    expect((await t.request("GET", "/runners")).status).toBe(200);
    expect(clock.sleeps).toEqual([2000]);
  });

  it("bounds a huge Retry-After", async () => {
    let n = 0;
    const { url } = await gitlab((_req, res) => (n++ === 0 ? json(res, 503, {}, { "retry-after": "86400" }) : json(res, 200, {})));
    const clock = manualClock();
    await gitlabTransport({ url, auth, clock }).request("GET", "/x");
    expect(clock.sleeps).toEqual([DEFAULT_RETRY.maxRetryAfterMs]);
  });

  it("gives up after the policy's attempts on repeated 500s", async () => {
    const { url, requests } = await gitlab((_req, res) => json(res, 500, { message: "internal" }));
    const clock = manualClock();
    const err = await gitlabTransport({ url, auth, clock, retry: { ...DEFAULT_RETRY, attempts: 4 } })
      .request("GET", "/x")
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GitlabHttpError);
    expect((err as GitlabHttpError).status).toBe(500);
    expect(requests).toHaveLength(4);
    expect(clock.sleeps).toHaveLength(3);
  });

  it("does not retry a 404, and keeps the token out of the error even when GitLab echoes it", async () => {
    const { url, requests } = await gitlab((_req, res) => json(res, 404, { message: `404 Project Not Found for token ${TOKEN}` }));
    const err = await gitlabTransport({ url, auth, clock: manualClock() })
      .request("GET", "/projects/9")
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GitlabHttpError);
    expect(requests).toHaveLength(1);
    expect((err as Error).message).toBe("GitLab GET /projects/9 answered 404: 404 Project Not Found for token [redacted]");
    expect(JSON.stringify(err)).not.toContain(TOKEN);
    expect(String((err as Error).stack)).not.toContain(TOKEN);
  });

  it("names the call with its query in errors", async () => {
    const { url } = await gitlab((_req, res) => json(res, 403, { message: "403 Forbidden" }));
    await expect(gitlabTransport({ url, auth }).request("GET", "/runners", { query: { type: "project_type" } })).rejects.toThrow(
      "GitLab GET /runners?type=project_type answered 403: 403 Forbidden",
    );
  });

  it("jitters backoff unless told otherwise", async () => {
    let n = 0;
    const { url } = await gitlab((_req, res) => (n++ === 0 ? json(res, 503, {}) : json(res, 200, {})));
    const clock = manualClock();
    await gitlabTransport({ url, auth, clock, random: () => 1, retry: { ...DEFAULT_RETRY, baseDelayMs: 20 } }).request("GET", "/x");
    expect(clock.sleeps).toEqual([20]);
  });

  it("retries network errors, then reports them with the call", async () => {
    const { url } = await gitlab((req) => req.socket.destroy());
    const clock = manualClock();
    const err = await gitlabTransport({ url, auth, clock, retry: { ...DEFAULT_RETRY, attempts: 3 } })
      .request("GET", "/x")
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GitlabNetworkError);
    expect((err as Error).message).toMatch(/^GitLab GET \/x failed: /);
    expect(clock.sleeps).toHaveLength(2);
  });

  it("reports a refused connection as a network error", async () => {
    const { url } = await gitlab(() => {});
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    server = undefined;
    const err = await gitlabTransport({ url, auth, clock: manualClock(), retry: { ...DEFAULT_RETRY, attempts: 1 } })
      .request("GET", "/x")
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GitlabNetworkError);
    expect((err as GitlabNetworkError).reason).toBe("ECONNREFUSED");
  });

  it("paginates with x-next-page", async () => {
    const { url, requests } = await gitlab((req, res) => {
      const page = new URL(req.url ?? "", "http://x").searchParams.get("page");
      json(res, 200, page === "1" ? [1, 2] : [3], page === "1" ? { "x-next-page": "2" } : { "x-next-page": "" });
    });
    expect(await gitlabTransport({ url, auth }).paginate<number>("/items", { sort: "asc" })).toEqual([1, 2, 3]);
    expect(requests.map((r) => r.url)).toEqual([
      "/api/v4/items?per_page=100&page=1&sort=asc",
      "/api/v4/items?per_page=100&page=2&sort=asc",
    ]);
  });

  it("refuses to read an endless list instead of cutting it silently", async () => {
    const { url } = await gitlab((req, res) => {
      const page = Number(new URL(req.url ?? "", "http://x").searchParams.get("page"));
      json(res, 200, [page], { "x-next-page": String(page + 1) });
    });
    await expect(gitlabTransport({ url, auth }).paginate("/items")).rejects.toThrow(/more than 100 pages/);
  });
});

describe("gitlabTransport, a call that must not run twice (idempotent: false)", () => {
  const create = (url: string, clock = manualClock(), timeoutMs?: number) =>
    gitlabTransport({ url, auth, clock, ...(timeoutMs ? { timeoutMs } : {}) })
      .request("POST", "/user/runners", { body: { runner_type: "project_type" }, idempotent: false })
      .catch((e: unknown) => e);

  it("is sent once when GitLab may have acted on it: a 5xx, a dropped connection, a timeout", async () => {
    for (const handler of [
      (_req: IncomingMessage, res: ServerResponse) => json(res, 502, { message: "bad gateway" }),
      (req: IncomingMessage) => req.socket.destroy(),
      () => {},
    ] as Handler[]) {
      const { url, requests } = await gitlab(handler);
      const err = await create(url, manualClock(), 300);
      expect(mayHaveReachedGitlab(err)).toBe(true);
      expect(requests).toHaveLength(1);
      const closing = new Promise<void>((resolve) => server?.close(() => resolve()));
      server?.closeAllConnections();
      await closing;
      server = undefined;
    }
  });

  it("is retried when GitLab surely did not act on it: a 429, a refused connection", async () => {
    let n = 0;
    const { url, requests } = await gitlab((_req, res) =>
      n++ === 0 ? json(res, 429, {}, { "retry-after": "1" }) : json(res, 201, { id: 5 }),
    );
    expect(await create(url)).toMatchObject({ status: 201 });
    expect(requests).toHaveLength(2);
    await new Promise<void>((resolve) => server?.close(() => resolve()));

    const closed = await gitlab(() => {});
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    server = undefined;
    const clock = manualClock();
    const refused = await create(closed.url, clock);
    expect(refused).toBeInstanceOf(GitlabNetworkError);
    expect(mayHaveReachedGitlab(refused)).toBe(false);
    expect(clock.sleeps).toHaveLength(DEFAULT_RETRY.attempts - 1);
  });
});
