import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { createClient } from "redis";
import { freePort, startLocalRedis } from "../dev/redis-server.js";

/**
 * `npm run bench -w counter-app`: (a) node:http + one INCR per request vs
 * (b) the counter app with all its middleware, side by side against the same
 * local redis-server, 50 connections each. Prints figures; asserts nothing.
 * BENCH_SECONDS (default 10, max 60) bounds each measured run.
 */
const SECONDS = Math.min(60, Math.max(1, Number(process.env.BENCH_SECONDS ?? 10)));
const WARMUP_SECONDS = 2;
const CONNECTIONS = 50;

interface Figures {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  ok: number;
  non2xx: number;
  errors: number;
  counted: number;
}

async function waitForHttp(url: string, proc: ChildProcess): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`server exited with ${proc.exitCode} before answering ${url}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no answer from ${url} within 20 s`);
}

/** Most requests one measured run may send, whatever the warm-up rate: keeps the run bounded. */
const MAX_REQUESTS = 3_000_000;

/**
 * The measured run sends a fixed number of requests (the warm-up rate times
 * BENCH_SECONDS) so that every request is answered before counting: a run cut
 * by duration abandons up to 50 in-flight requests that Redis still counts.
 */
async function measure(name: string, url: string, readCount: () => Promise<number>): Promise<Figures> {
  const warm = await autocannon({ url, connections: CONNECTIONS, duration: WARMUP_SECONDS });
  const amount = Math.min(MAX_REQUESTS, Math.max(1000, Math.round(warm.requests.average * SECONDS)));
  await new Promise((r) => setTimeout(r, 500)); // let the warm-up's abandoned requests land before reading the count
  const before = await readCount();
  const r = await autocannon({ url, connections: CONNECTIONS, amount, timeout: 5 });
  const counted = (await readCount()) - before;
  return {
    name,
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    ok: r["2xx"],
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
    counted,
  };
}

function startServer(script: string, env: Record<string, string>): ChildProcess {
  const path = fileURLToPath(new URL(script, import.meta.url));
  return spawn(process.execPath, [path], { env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "inherit"] });
}

async function stopServer(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    proc.once("exit", () => resolve());
    proc.kill("SIGTERM");
  });
}

const redis = await startLocalRedis();
const client = createClient({ url: redis.url });
await client.connect();
const children: ChildProcess[] = [];
try {
  const basePort = await freePort();
  const base = startServer("./baseline.js", { REDIS_URL: redis.url, PORT: String(basePort) });
  children.push(base);
  await waitForHttp(`http://127.0.0.1:${basePort}/`, base);
  const a = await measure("a: node:http + INCR", `http://127.0.0.1:${basePort}/`, async () => Number(await client.get("bench:baseline")));
  await stopServer(base);

  const appPort = await freePort();
  const app = startServer("../app/main.js", {
    REDIS_URL: redis.url,
    PORT: String(appPort),
    HOST: "127.0.0.1",
    NODE_NAME: "bench",
    LOG_LEVEL: "warn",
  });
  children.push(app);
  await waitForHttp(`http://127.0.0.1:${appPort}/readyz`, app);
  const b = await measure("b: counter app", `http://127.0.0.1:${appPort}/api/views/bench`, async () =>
    Number((await client.hGet("pifleet:views", "bench")) ?? 0),
  );

  const row = (f: Figures) =>
    `${f.name.padEnd(22)} ${f.rps.toFixed(0).padStart(8)} ${String(f.p50).padStart(6)} ${String(f.p99).padStart(6)} ${String(f.ok).padStart(9)} ${String(f.non2xx + f.errors).padStart(8)} ${String(f.ok - f.counted).padStart(6)}`;
  console.log(
    `\nautocannon, ${CONNECTIONS} connections, ${SECONDS} s each after ${WARMUP_SECONDS} s warm-up, redis ${redis.url}, Node ${process.version}`,
  );
  console.log(
    `${"server".padEnd(22)} ${"req/s".padStart(8)} ${"p50ms".padStart(6)} ${"p99ms".padStart(6)} ${"2xx".padStart(9)} ${"failed".padStart(8)} ${"lost".padStart(6)}`,
  );
  console.log(row(a));
  console.log(row(b));
  console.log(
    `ratio b/a: ${(b.rps / a.rps).toFixed(2)}   lost counts (2xx responses minus counted in Redis): a ${a.ok - a.counted}, b ${b.ok - b.counted}`,
  );
} finally {
  for (const c of children) await stopServer(c);
  await client.close();
  await redis.dispose();
}
