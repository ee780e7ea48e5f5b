import { loadConfig, type RunningApp, startCounterApp } from "@pifleet/counter-service";
import { type LocalSentinelGroup, startLocalSentinelGroup } from "@pifleet/counter-service/dev";
import { run } from "@pifleet/io";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROBE_TIMEOUT_MS, startLoad } from "../load/probe.js";
import { describeHandOff, parseHandOffOutput, redisCli, redisHandOffScript } from "./redis-failover.js";
import { APP_REDIS_TIMEOUT_MS } from "./stack.js";

// A planned hand-off of the Redis primary, with the very script a rolling change runs on the Pi, here run by
// sh against a loopback sentinel group (3 redis-server, 3 sentinels), while the app counts a steady load.
const log = (m: string) => process.stderr.write(`[redis hand-off itest] ${m}\n`);
let group: LocalSentinelGroup;
let app: RunningApp;
let base = "";

beforeAll(async () => {
  group = await startLocalSentinelGroup("pifleet");
  // The app as the stack starts it: sentinels, one replica must confirm each count, the stack's batch time.
  const config = loadConfig({
    PORT: "0",
    HOST: "127.0.0.1",
    REDIS_SENTINELS: group.sentinelList,
    REDIS_TIMEOUT_MS: String(APP_REDIS_TIMEOUT_MS),
    NODE_NAME: "testnode",
  });
  app = await startCounterApp(config, pino({ level: process.env.COUNTER_TEST_LOG ?? "silent" }));
  base = `http://127.0.0.1:${app.port}`;
  const ready = Date.now() + 20_000;
  while ((await fetch(`${base}/readyz`).catch(() => undefined))?.status !== 200) {
    if (Date.now() > ready) throw new Error("the app did not become ready through the sentinels within 20 s");
    await new Promise((r) => setTimeout(r, 100));
  }
});

afterAll(async () => {
  await app?.shutdown("test done");
  await group?.dispose();
});

/** The primary's port and whether a failover is running, from `SENTINEL MASTER` as redis-cli prints it (key and value lines). */
function sentinelView(text: string): { port: number; failingOver: boolean } {
  const lines = text.split("\n");
  const value = (key: string) => lines[lines.indexOf(key) + 1] ?? "";
  return { port: Number(value("port")), failingOver: value("flags").includes("failover_in_progress") };
}

const cli = async (port: number, ...args: string[]) => {
  const [bin, ...rest] = redisCli({ host: "127.0.0.1", port }, ...args);
  return (await run(bin as string, rest)).stdout.trim();
};

describe("a planned hand-off of the Redis primary under load", () => {
  it("moves the primary with 0 failed requests and 0 lost counts (the node-side script on loopback)", async () => {
    const primary = group.primary;
    const load = await startLoad({
      url: base,
      page: `hand-off-${Date.now()}`,
      workers: 4,
      pauseMs: 5,
      maxSeconds: 60,
      timeoutMs: PROBE_TIMEOUT_MS,
    });
    await new Promise((r) => setTimeout(r, 1500));
    const script = redisHandOffScript({
      redisPort: primary.port,
      sentinelPort: group.sentinels[0]?.port as number,
      masterName: group.name,
      others: group.replicas.map((r) => ({ host: "127.0.0.1", port: r.port })),
      timeoutMs: 20_000,
    });
    const started = Date.now();
    const said = parseHandOffOutput((await run("sh", ["-c", script])).stdout);
    const scriptMs = Date.now() - started;
    // Until the old primary is a synced replica and every sentinel has ended the failover and names the new primary
    // (SENTINEL MASTER: the port, and no failover_in_progress flag) — what node-redis waits for before it follows.
    for (;;) {
      const info = await cli(primary.port, "INFO", "replication");
      const views = await Promise.all(group.sentinels.map(async (s) => sentinelView(await cli(s.port, "SENTINEL", "MASTER", group.name))));
      if (/master_link_status:up/.test(info) && views.every((v) => v.port === said.primary.port && !v.failingOver)) break;
      if (Date.now() - started > 30_000) throw new Error(`the hand-off did not settle within 30 s: ${JSON.stringify(views)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const settledMs = Date.now() - started;
    await new Promise((r) => setTimeout(r, 3000));
    load.stop();
    const { summary, samples } = await load.done;
    const slowest = Math.max(...samples.map((s) => s.endMs - s.startMs));
    // Answers over 1 s, by when they were sent relative to the script's start: the requests the hand-off held.
    const scriptAt = started - (Date.now() - load.elapsedMs());
    const slow = samples
      .filter((s) => s.endMs - s.startMs > 1000)
      .map((s) => `+${((s.startMs - scriptAt) / 1000).toFixed(2)} s: ${((s.endMs - s.startMs) / 1000).toFixed(2)} s`);
    log(`answers over 1 s (sent at, after the script started: took): ${slow.join(", ") || "none"}`);
    log(
      `hand-off script ${scriptMs} ms: ${describeHandOff(said)}; the failover ended (old primary synced, every sentinel names the new one) after ${settledMs} ms`,
    );
    log(
      `${summary.requests} requests, ${summary.failed} failed (${summary.failures.map(([r, n]) => `${r} ${n}`).join(", ") || "none"}), ${summary.lost} lost, ${summary.countedUnacknowledged} counted without an answer, slowest answer ${slowest.toFixed(0)} ms`,
    );
    expect(said.primary.port).not.toBe(primary.port);
    expect(summary.requests).toBeGreaterThan(100);
    expect(summary.failed).toBe(0);
    expect(summary.lost).toBe(0);
    // A 503 is never counted: every count is one a client was told about.
    expect(summary.countedUnacknowledged).toBe(0);
  });
});
