import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { setTimeout as delay } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { createClient } from "redis";
import { PAGES_KEY } from "../app/count-script.js";
import { freePort, startLocalRedis } from "../dev/redis-server.js";
import { startLocalSentinelGroup } from "../dev/sentinel-group.js";

/**
 * `npm run bench -w counter-app/service`: (a) node:http + one INCR per request vs
 * (b) the counter app with all its middleware, against the same local
 * redis-server, 50 connections (BENCH_REDIS=sentinels: b follows sentinels and
 * WAITs for a replica, as on the fleet). Prints figures; asserts nothing.
 *
 * The two alternate in ROUNDS short runs so that load from other processes on
 * a shared machine hits both alike. Each run sends a fixed number of requests
 * (the warm-up rate times its share of BENCH_SECONDS), so every request is
 * answered before the count in Redis is compared with the 2xx responses.
 */
const SECONDS = Math.min(60, Math.max(3, Number(process.env.BENCH_SECONDS ?? 12)));
const ROUNDS = 3;
const WARMUP_SECONDS = 1;
const CONNECTIONS = 50;
/** Most requests one run may send, whatever the warm-up rate: keeps the benchmark bounded. */
const MAX_REQUESTS = 1_000_000;

interface Target {
  name: string;
  url: string;
  readCount: () => Promise<number>;
  runs: autocannon.Result[];
  counted: number;
  pid: number;
  cpuSeconds: number;
}

/**
 * CPU seconds (user + system) a process has used, from /proc: CPU per request
 * is steadier than req/s when other work shares the machine. NaN off Linux.
 */
function cpuSecondsOf(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return Number.NaN;
  }
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
    await delay(100);
  }
  throw new Error(`no answer from ${url} within 20 s`);
}

async function run(t: Target): Promise<void> {
  const warm = await autocannon({ url: t.url, connections: CONNECTIONS, duration: WARMUP_SECONDS });
  const amount = Math.min(MAX_REQUESTS, Math.max(1000, Math.round((warm.requests.average * SECONDS) / ROUNDS)));
  await delay(300); // let the warm-up's abandoned requests land before reading the count
  const before = await t.readCount();
  const cpuBefore = cpuSecondsOf(t.pid);
  t.runs.push(await autocannon({ url: t.url, connections: CONNECTIONS, amount, timeout: 5 }));
  t.cpuSeconds += cpuSecondsOf(t.pid) - cpuBefore;
  t.counted += (await t.readCount()) - before;
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

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

function summary(t: Target) {
  const ok = t.runs.reduce((s, r) => s + r["2xx"], 0);
  const seconds = t.runs.reduce((s, r) => s + r.duration, 0);
  return {
    rps: ok / seconds,
    p50: median(t.runs.map((r) => r.latency.p50)),
    p99: median(t.runs.map((r) => r.latency.p99)),
    ok,
    failed: t.runs.reduce((s, r) => s + r.non2xx + r.errors + r.timeouts, 0),
    lost: ok - t.counted,
    cpuMicros: (t.cpuSeconds / ok) * 1e6,
  };
}

// BENCH_REDIS=sentinels: the fleet's layout in miniature (primary + two replicas + three sentinels);
// the app then follows the sentinels and WAITs for a replica per batch, as on the fleet.
const sentinels = process.env.BENCH_REDIS === "sentinels" ? await startLocalSentinelGroup() : undefined;
const redis = sentinels?.primary ?? (await startLocalRedis());
const client = createClient({ url: redis.url });
await client.connect();
const children: ChildProcess[] = [];
try {
  const basePort = await freePort();
  const appPort = await freePort();
  const base = startServer("./baseline.js", { REDIS_URL: redis.url, PORT: String(basePort) });
  const app = startServer("../app/main.js", {
    ...(sentinels ? { REDIS_SENTINELS: sentinels.sentinelList } : { REDIS_URL: redis.url }),
    PORT: String(appPort),
    HOST: "127.0.0.1",
    NODE_NAME: "bench",
    LOG_LEVEL: "warn",
  });
  children.push(base, app);
  await waitForHttp(`http://127.0.0.1:${basePort}/`, base);
  await waitForHttp(`http://127.0.0.1:${appPort}/readyz`, app);

  const a: Target = {
    name: "a: node:http + INCR",
    url: `http://127.0.0.1:${basePort}/`,
    readCount: async () => Number(await client.get("bench:baseline")),
    runs: [],
    counted: 0,
    pid: base.pid ?? 0,
    cpuSeconds: 0,
  };
  const b: Target = {
    name: "b: counter app",
    url: `http://127.0.0.1:${appPort}/api/views/bench`,
    readCount: async () => Number((await client.zScore(PAGES_KEY, "bench")) ?? 0),
    runs: [],
    counted: 0,
    pid: app.pid ?? 0,
    cpuSeconds: 0,
  };
  for (let i = 0; i < ROUNDS; i++) {
    await run(a);
    await run(b);
  }

  const sa = summary(a);
  const sb = summary(b);
  const row = (name: string, s: ReturnType<typeof summary>) =>
    `${name.padEnd(22)} ${s.rps.toFixed(0).padStart(8)} ${String(s.p50).padStart(6)} ${String(s.p99).padStart(6)} ${String(s.ok).padStart(9)} ${String(s.failed).padStart(7)} ${String(s.lost).padStart(5)} ${s.cpuMicros.toFixed(1).padStart(11)}`;
  const redisVersion = (await import("redis/package.json", { with: { type: "json" } })).default.version as string;
  console.log(
    `\nautocannon, ${CONNECTIONS} connections, ${ROUNDS} alternating rounds, ~${SECONDS} s per server; Node ${process.version}, redis client ${redisVersion}, redis-server on ${redis.url}${sentinels ? " (b through the sentinels, WAIT 1 per batch)" : ""}`,
  );
  console.log(
    `${"server".padEnd(22)} ${"req/s".padStart(8)} ${"p50ms".padStart(6)} ${"p99ms".padStart(6)} ${"2xx".padStart(9)} ${"failed".padStart(7)} ${"lost".padStart(5)} ${"cpu µs/req".padStart(11)}`,
  );
  console.log(row(a.name, sa));
  console.log(row(b.name, sb));
  console.log(
    `ratio b/a: ${(sb.rps / sa.rps).toFixed(2)} req/s, ${(sa.cpuMicros / sb.cpuMicros).toFixed(2)} by server CPU per request (a/b)`,
  );
  console.log(`lost counts (2xx responses minus views counted in Redis): a ${sa.lost}, b ${sb.lost}`);
} finally {
  for (const c of children) await stopServer(c);
  await client.close();
  await (sentinels ?? redis).dispose();
}
