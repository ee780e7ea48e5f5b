import { setTimeout as delay } from "node:timers/promises";
import express, { type NextFunction, type Request, type Response } from "express";
import { StoreUnavailableError } from "./batcher.js";
import type { AppContext } from "./context.js";
import { pageCsp, SECURITY_HEADERS } from "./headers.js";
import { PAGE_STYLE, renderPage } from "./page.js";
import { readNodes, readStats } from "./redis-store.js";

const HOME_PAGE = "home";
const PAGE_POLICY = pageCsp(PAGE_STYLE);

/**
 * Everything except the hot GET /api/views/:page (served by the dispatcher in
 * server.ts): the HTML page, stats, health, readiness and metrics.
 */
export function createExpressApp(ctx: AppContext): express.Express {
  const app = express();
  app.disable("x-powered-by");
  app.disable("etag");
  app.set("query parser", "simple");

  app.use((req, res, next) => {
    const started = performance.now();
    res.set(SECURITY_HEADERS);
    if (ctx.state.shuttingDown) res.set("connection", "close");
    res.on("finish", () => {
      const route = (req.route?.path as string | undefined) ?? "unmatched";
      ctx.metrics.observe(route, res.statusCode, (performance.now() - started) / 1000);
      ctx.log.debug({ event: "http.request", method: req.method, url: req.originalUrl, status: res.statusCode }, "request");
    });
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.set("allow", "GET, HEAD").status(405).json({ error: "method not allowed: this service only answers GET" });
      return;
    }
    next();
  });

  app.get("/", async (_req, res) => {
    try {
      const views = await ctx.batcher.count(HOME_PAGE);
      // The per-node counts only: one field per node, however many pages there are.
      const nodes = await readNodes(ctx.redis);
      res.set("content-security-policy", PAGE_POLICY).type("html");
      res.send(renderPage({ page: HOME_PAGE, views, node: ctx.config.nodeName, replica: ctx.config.replicaId, nodes }));
    } catch (err) {
      unavailable(ctx, res, err, "html");
    }
  });

  app.get("/api/stats", async (_req, res) => {
    try {
      res.json({ ...(await readStats(ctx.redis)), servedBy: { node: ctx.config.nodeName, replica: ctx.config.replicaId } });
    } catch (err) {
      unavailable(ctx, res, err, "json");
    }
  });

  // Browsers ask for it on every page load; answer without a 404 in their console.
  app.get("/favicon.ico", (_req, res) => {
    res.status(204).end();
  });

  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });

  app.get("/readyz", async (_req, res) => {
    const reason = await notReadyReason(ctx);
    res.status(reason ? 503 : 200).json(reason ? { status: "unavailable", reason } : { status: "ready" });
  });

  app.get("/metrics", async (_req, res) => {
    res.type(ctx.metrics.registry.contentType).send(await ctx.metrics.registry.metrics());
  });

  app.use((_req, res) => {
    res.status(404).json({ error: "not found: try GET /, /api/views/<page>, /api/stats, /healthz, /readyz or /metrics" });
  });

  // Express 5 passes rejected handlers here; the client never sees a stack trace.
  app.use((err: Error & { status?: number }, req: Request, res: Response, _next: NextFunction) => {
    const status = err.status && err.status >= 400 && err.status < 500 ? err.status : 500;
    if (status === 500) ctx.log.error({ event: "http.error", url: req.originalUrl, err }, "request failed");
    if (!res.headersSent) res.status(status).json({ error: status === 500 ? "internal error" : "bad request" });
  });
  return app;
}

/**
 * Ready when Redis takes writes: a probe batch without views goes the way views
 * go (the count script, WAIT), so a Redis that answers PING but refuses every
 * write (OOM at maxmemory, NOREPLICAS) makes the balancer stop sending here. A
 * probe still unanswered after READY_PROBE_WAIT_MS (a write held for a moment,
 * as in a Redis hand-off) is judged by the last outcome of any batch instead:
 * the balancer's check must answer within its 1 s, and a pause shorter than
 * REDIS_TIMEOUT_MS should not take every replica out at once.
 */
async function notReadyReason(ctx: AppContext): Promise<string | undefined> {
  if (ctx.state.shuttingDown) return "shutting down";
  if (!ctx.redis.isReady) return "Redis is not connected";
  const refused = (err: unknown) => `Redis does not take writes: ${err instanceof Error ? err.message : String(err)}`;
  const probe = ctx.batcher.probe().then(() => undefined, refused);
  const meanwhile = delay(READY_PROBE_WAIT_MS).then(() => {
    const failure = ctx.writes.failure;
    return failure ? refused(failure) : undefined;
  });
  return Promise.race([probe, meanwhile]);
}

const READY_PROBE_WAIT_MS = 500;

function unavailable(ctx: AppContext, res: Response, err: unknown, kind: "html" | "json"): void {
  const redisDown = err instanceof StoreUnavailableError || !ctx.redis.isReady;
  if (!redisDown) throw err;
  res.status(503).set("retry-after", "1");
  if (kind === "html")
    res
      .type("html")
      .send(
        `<!doctype html><title>unavailable</title><p>The counter is unavailable: Redis cannot be reached. ${err instanceof StoreUnavailableError && err.counted === false ? "This view was not counted. " : ""}Retry shortly.</p>`,
      );
  else res.json({ error: "counter unavailable: Redis cannot be reached, retry shortly" });
}
