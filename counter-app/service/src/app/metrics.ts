import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/**
 * Request counts and latency per route, kept in plain arrays and rendered
 * only when /metrics is scraped. prom-client's labelled Counter and Histogram
 * hash their labels on every observation, about 2 µs, which is a visible
 * share of the hot path's budget.
 */
class RouteStats {
  readonly name = "counter_http_request_duration_seconds";
  readonly help = "HTTP request latency by route";
  readonly type = "histogram";
  readonly aggregator = "sum";
  private readonly routes = new Map<string, { buckets: number[]; sum: number; count: number }>();
  private readonly statuses = new Map<string, number>();

  observe(route: string, status: number, seconds: number): void {
    let r = this.routes.get(route);
    if (!r) {
      r = { buckets: LATENCY_BUCKETS.map(() => 0), sum: 0, count: 0 };
      this.routes.set(route, r);
    }
    const i = LATENCY_BUCKETS.findIndex((le) => seconds <= le);
    if (i !== -1) r.buckets[i] = (r.buckets[i] ?? 0) + 1;
    r.sum += seconds;
    r.count++;
    const key = `${route}\u0000${status}`;
    this.statuses.set(key, (this.statuses.get(key) ?? 0) + 1);
  }

  /** The latency histogram, in prom-client's metric shape (cumulative buckets). */
  async get() {
    const values: Array<{ metricName: string; labels: Record<string, string | number>; value: number }> = [];
    for (const [route, r] of this.routes) {
      let cumulative = 0;
      LATENCY_BUCKETS.forEach((le, i) => {
        cumulative += r.buckets[i] ?? 0;
        values.push({ metricName: `${this.name}_bucket`, labels: { le, route }, value: cumulative });
      });
      values.push({ metricName: `${this.name}_bucket`, labels: { le: "+Inf", route }, value: r.count });
      values.push({ metricName: `${this.name}_sum`, labels: { route }, value: r.sum });
      values.push({ metricName: `${this.name}_count`, labels: { route }, value: r.count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** Request totals by route and status, as a counter metric. */
  requestsMetric() {
    const statuses = this.statuses;
    return {
      name: "counter_http_requests_total",
      help: "HTTP requests by route and status code",
      type: "counter",
      aggregator: "sum",
      async get() {
        const values = [...statuses].map(([key, value]) => {
          const [route, status] = key.split("\u0000");
          return { labels: { route: route ?? "", status: status ?? "" }, value };
        });
        return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
      },
      reset() {
        statuses.clear();
      },
    };
  }

  reset(): void {
    this.routes.clear();
  }
}

/** The app's Prometheus metrics, on their own registry so tests can create several apps. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const routes = new RouteStats();
  // prom-client accepts any object with name, help, type and get(); its typings only name its own classes.
  registry.registerMetric(routes.requestsMetric() as unknown as Histogram);
  registry.registerMetric(routes as unknown as Histogram);
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
  const evicted = new Counter({
    name: "counter_pages_evicted_total",
    help: "Pages evicted (their per-page count dropped) to keep at most PAGES_MAX pages",
    registers: [registry],
  });
  const lateApplied = new Counter({
    name: "counter_views_late_applied_total",
    help: "Views Redis counted after the app had answered them 503 (a Redis clock ahead of the app's); should stay 0",
    registers: [registry],
  });
  return {
    registry,
    observeEvicted: (pages: number) => evicted.inc(pages),
    observeLateApplied: (views: number) => lateApplied.inc(views),
    /** Records one finished request. */
    observe: (route: string, status: number, seconds: number) => routes.observe(route, status, seconds),
    observeBatch(size: number, seconds: number, ok: boolean) {
      redisLatency.labels(ok ? "ok" : "error").observe(seconds);
      batchSize.observe(size);
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
