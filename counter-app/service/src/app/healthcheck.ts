/**
 * The image's HEALTHCHECK: liveness only (/healthz). Readiness (/readyz, which
 * needs Redis) is the load balancer's business; a Redis outage must not make
 * Swarm restart every app replica.
 */
const port = process.env.PORT ?? "8080";
const timer = setTimeout(() => process.exit(1), 1500);
fetch(`http://127.0.0.1:${port}/healthz`).then(
  (res) => process.exit(res.ok ? 0 : 1),
  () => process.exit(1),
);
timer.unref();
