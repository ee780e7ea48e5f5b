import { createServer, type Server } from "node:http";
import net, { type AddressInfo } from "node:net";
import { setTimeout as delay } from "node:timers/promises";
import type { Logger } from "pino";
import { ViewBatcher } from "./batcher.js";
import { type AppConfig, redactUrl } from "./config.js";
import type { AppContext } from "./context.js";
import { BODY_LIMIT_BYTES, HEADER_LIMIT_BYTES, SECURITY_HEADERS } from "./headers.js";
import { createViewsHandler, VIEWS_PREFIX } from "./hot-path.js";
import { createMetrics } from "./metrics.js";
import { createRedis, redisViewStore } from "./redis-store.js";
import { createExpressApp } from "./routes.js";
import { WriteHealth } from "./write-health.js";

export interface RunningApp {
  server: Server;
  /** The port actually bound (PORT=0 picks a free one). */
  port: number;
  ctx: AppContext;
  /** Graceful stop: readyz 503, drain, finish in-flight requests, flush counts, close Redis. */
  shutdown(reason: string): Promise<void>;
}

/** Starts listening at once; Redis may come later (readyz says so, views answer 503 until then). */
export async function startCounterApp(config: AppConfig, log: Logger): Promise<RunningApp> {
  const metrics = createMetrics();
  // A replica that does not confirm within WAIT's time makes the batch a 503, not a timeout.
  const durability = { replicas: config.redisAckReplicas, timeoutMs: config.redisWaitTimeoutMs };
  const writes = new WriteHealth(log);
  let lateLogged = false;
  const store = redisViewStore(() => ctx.redis, { durability, pagesMax: config.pagesMax, onEvicted: metrics.observeEvicted });
  const ctx: AppContext = {
    config,
    log,
    redis: createRedis(config, log),
    batcher: new ViewBatcher(store, config.nodeName, {
      timeoutMs: config.redisTimeoutMs,
      queueLimit: config.redisQueueLimit,
      onFlush(size, seconds, failure) {
        // Readiness probes (no views) tell whether writes work, but are no batches of views.
        if (size > 0) metrics.observeBatch(size, seconds, failure === undefined);
        writes.record(failure);
      },
      onLateApplied(size) {
        metrics.observeLateApplied(size);
        if (lateLogged) return;
        lateLogged = true; // once: further ones are in counter_views_late_applied_total
        log.error(
          { event: "redis.late_applied", views: size },
          "Redis applied a batch after its views were answered 503: its clock is ahead of this node's by more than the margin; check NTP on the Redis nodes",
        );
      },
    }),
    metrics,
    writes,
    state: { shuttingDown: false },
  };
  const views = createViewsHandler(ctx);
  const app = createExpressApp(ctx);

  const server = createServer(
    {
      maxHeaderSize: HEADER_LIMIT_BYTES,
      headersTimeout: config.headersTimeoutMs,
      requestTimeout: config.headersTimeoutMs + 5_000,
      // Node checks both timeouts only this often (default 30 s): a client sending one header byte at a
      // time would otherwise hold its connection up to 30 s past headersTimeout.
      connectionsCheckingInterval: CONNECTIONS_CHECK_MS,
    },
    (req, res) => {
      const url = req.url ?? "/";
      if (hasOversizedBody(req.rawHeaders)) {
        res.writeHead(413, { ...SECURITY_HEADERS, "content-type": "application/json", connection: "close" });
        res.end(JSON.stringify({ error: `request body too large: no route takes more than ${BODY_LIMIT_BYTES} bytes` }));
        return;
      }
      if (req.method === "GET" && url.startsWith(VIEWS_PREFIX)) views(res, url);
      else app(req, res);
    },
  );
  server.keepAliveTimeout = 5_000;
  // Connections beyond it are closed at once: slow or idle clients cannot take all the sockets and memory.
  server.maxConnections = config.maxConnections;

  void connectRedis(ctx);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  log.info(
    {
      event: "app.listening",
      port,
      node: config.nodeName,
      replica: config.replicaId,
      redis: config.redisSentinels.length > 0 ? config.redisSentinels : redactUrl(config.redisUrl),
    },
    "listening",
  );

  let stopping: Promise<void> | undefined;
  const shutdown = (reason: string) => {
    stopping ??= (async () => {
      ctx.state.shuttingDown = true;
      log.info({ event: "app.shutdown", reason, drainMs: config.drainMs }, "shutting down: readyz now answers 503");
      if (config.drainMs > 0) await delay(config.drainMs);
      await closeGently(server);
      await ctx.batcher.idle();
      const redis = ctx.redis;
      if (redis.isOpen) await redis.close().catch(() => redis.destroy());
      log.info({ event: "app.stopped" }, "in-flight requests finished, Redis closed");
    })();
    return stopping;
  };
  return { server, port, ctx, shutdown };
}

/**
 * The first connection. A single client reconnects by itself, but node-redis's
 * sentinel client gives up when it finds no primary within its rediscover limit
 * (about 16 s) and cannot be opened twice: replace it and try again, so an app
 * started while Redis is down finds it once it is back.
 */
async function connectRedis(ctx: AppContext): Promise<void> {
  for (;;) {
    try {
      await ctx.redis.connect();
      return;
    } catch (err) {
      ctx.log.warn({ event: "redis.connect", err: err instanceof Error ? err.message : String(err) }, "no Redis primary found yet");
      if (ctx.config.redisSentinels.length === 0 || ctx.state.shuttingDown) return;
      await Promise.resolve(ctx.redis.destroy()).catch(() => undefined);
      await delay(2000);
      if (ctx.state.shuttingDown) return;
      ctx.redis = createRedis(ctx.config, ctx.log);
    }
  }
}

/**
 * Stops accepting, then gives connections accepted a moment ago time to send
 * their request before idle ones are closed. http.Server.close() would close
 * idle sockets at once, resetting a client whose request is on the wire.
 * Responses already carry `connection: close`, so no socket stays reused.
 */
async function closeGently(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => net.Server.prototype.close.call(server, () => resolve()));
  await delay(IDLE_GRACE_MS);
  server.closeIdleConnections();
  const sweep = setInterval(() => server.closeIdleConnections(), 50);
  await closed;
  clearInterval(sweep);
}

const IDLE_GRACE_MS = 250;
/** How often node:http enforces headersTimeout and requestTimeout. */
const CONNECTIONS_CHECK_MS = 1_000;

/**
 * A declared body over the limit, or one of unknown length (chunked): no route
 * reads a body. Scans rawHeaders because req.headers is built lazily, and the
 * hot path never needs it otherwise.
 */
function hasOversizedBody(rawHeaders: string[]): boolean {
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] ?? "";
    if (name.length === 17 && name.toLowerCase() === "transfer-encoding") return true;
    if (name.length === 14 && name.toLowerCase() === "content-length") {
      const length = Number(rawHeaders[i + 1]);
      if (!Number.isFinite(length) || length > BODY_LIMIT_BYTES) return true;
    }
  }
  return false;
}
