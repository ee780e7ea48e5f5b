import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";

/** The app's Prometheus metrics, on their own registry so tests can create several apps. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: "counter_http_requests_total",
    help: "HTTP requests by route and status code",
    labelNames: ["route", "status"] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: "counter_http_request_duration_seconds",
    help: "HTTP request latency by route",
    labelNames: ["route"] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const redisLatency = new Histogram({
    name: "counter_redis_batch_duration_seconds",
    help: "Round trip of one batch of HINCRBYs to Redis",
    labelNames: ["outcome"] as const,
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5, 2],
    registers: [registry],
  });
  const batchSize = new Histogram({
    name: "counter_redis_batch_views",
    help: "Views counted per Redis batch",
    buckets: [1, 2, 5, 10, 20, 50, 100, 200],
    registers: [registry],
  });
  return {
    registry,
    /** Records one finished request. */
    observe(route: string, status: number, seconds: number) {
      requests.labels(route, String(status)).inc();
      latency.labels(route).observe(seconds);
    },
    observeBatch(size: number, seconds: number, ok: boolean) {
      redisLatency.labels(ok ? "ok" : "error").observe(seconds);
      batchSize.observe(size);
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
