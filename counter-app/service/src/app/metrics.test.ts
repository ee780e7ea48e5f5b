import { describe, expect, it } from "vitest";
import { createMetrics } from "./metrics.js";

describe("createMetrics", () => {
  it("renders request totals and a cumulative latency histogram per route in Prometheus text", async () => {
    const m = createMetrics();
    m.observe("/api/views/:page", 200, 0.0004);
    m.observe("/api/views/:page", 200, 0.003);
    m.observe("/api/views/:page", 503, 9);
    m.observeBatch(3, 0.0002, true);
    const text = await m.registry.metrics();
    expect(text).toContain('counter_http_requests_total{route="/api/views/:page",status="200"} 2');
    expect(text).toContain('counter_http_requests_total{route="/api/views/:page",status="503"} 1');
    expect(text).toContain('counter_http_request_duration_seconds_bucket{le="0.0005",route="/api/views/:page"} 1');
    expect(text).toContain('counter_http_request_duration_seconds_bucket{le="0.005",route="/api/views/:page"} 2');
    expect(text).toContain('counter_http_request_duration_seconds_bucket{le="2.5",route="/api/views/:page"} 2');
    expect(text).toContain('counter_http_request_duration_seconds_bucket{le="+Inf",route="/api/views/:page"} 3');
    expect(text).toContain('counter_http_request_duration_seconds_count{route="/api/views/:page"} 3');
    expect(text).toContain("# TYPE counter_http_request_duration_seconds histogram");
    expect(text).toContain('counter_redis_batch_duration_seconds_count{outcome="ok"} 1');
  });
});
