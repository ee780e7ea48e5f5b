import { pino } from "pino";
import { createClient } from "redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalSentinelGroup, startLocalSentinelGroup } from "../dev/sentinel-group.js";
import { waitFor } from "../test-support/harness.js";
import { loadConfig } from "./config.js";
import { PAGES_KEY } from "./count-script.js";
import { type RunningApp, startCounterApp } from "./server.js";

// The app against real sentinels on loopback: a primary, two replicas, three sentinels (quorum 2).
const log = (m: string) => process.stderr.write(`[failover itest] ${m}\n`);
let group: LocalSentinelGroup;
let app: RunningApp;
let base = "";

beforeAll(async () => {
  group = await startLocalSentinelGroup("pifleet", 1000);
  const config = loadConfig({ PORT: "0", HOST: "127.0.0.1", REDIS_SENTINELS: group.sentinelList, NODE_NAME: "testnode" });
  app = await startCounterApp(config, pino({ level: process.env.COUNTER_TEST_LOG ?? "silent" }));
  base = `http://127.0.0.1:${app.port}`;
  await waitFor(async () => (await fetch(`${base}/readyz`)).status === 200, 20_000, "app ready through the sentinels");
});

afterAll(async () => {
  await app?.shutdown("test done");
  await group?.dispose();
});

async function views(page: string): Promise<{ status: number; views?: number }> {
  const res = await fetch(`${base}/api/views/${page}`, { signal: AbortSignal.timeout(5000) });
  const body = (await res.json()) as { views?: number };
  return { status: res.status, views: body.views };
}

describe("the app behind Redis sentinels", () => {
  it("acknowledges a count only once a replica has it: 503 while both replicas are gone", async () => {
    expect((await views("ack")).status).toBe(200);
    for (const r of group.replicas) await r.stop();
    try {
      // The primary refuses writes without a replica (NOREPLICAS) or WAIT times out: never a 200.
      await waitFor(async () => (await views("ack")).status === 503, 15_000, "a 503 without a replica");
    } finally {
      for (const r of group.replicas) await r.start();
    }
    await waitFor(async () => (await views("ack")).status === 200, 20_000, "counting again with the replica back");
  });

  it("kill the primary under a trickle of increments: sentinels promote the replica, the app follows, no acknowledged count lost", async () => {
    const acked: number[] = [];
    let failed = 0;
    let notReady = 0;
    let stoppedAt = 0;
    let firstFailure = 0;
    let resumedAt = 0;
    const started = Date.now();
    const trickle = (async () => {
      while (Date.now() - started < 15_000) {
        const r = await views("failover").catch(() => ({ status: 0, views: undefined }));
        if (r.status === 200 && r.views !== undefined) {
          acked.push(r.views);
          if (firstFailure && !resumedAt) resumedAt = Date.now();
        } else {
          failed++;
          firstFailure ||= Date.now();
          if (stoppedAt && (await fetch(`${base}/readyz`)).status === 503) notReady++;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    await new Promise((r) => setTimeout(r, 2000));
    stoppedAt = Date.now();
    await group.primary.stop();
    await trickle;
    log(
      `${acked.length} acknowledged, ${failed} failed (${notReady} while /readyz said not ready); service resumed ${((resumedAt - stoppedAt) / 1000).toFixed(1)} s after the primary was stopped`,
    );
    expect(resumedAt).toBeGreaterThan(stoppedAt);
    expect(notReady).toBeGreaterThan(0);
    // A lost acknowledged count would make the new primary hand the same number out again.
    expect(new Set(acked).size).toBe(acked.length);
    const address = (await fetch(`${base}/readyz`).then((r) => r.json())) as { status: string };
    expect(address.status).toBe("ready");
    const roles = await Promise.all(group.replicas.map((r) => redisRole(r.url)));
    const promotedIndex = roles.indexOf("master");
    expect(promotedIndex).toBeGreaterThanOrEqual(0);
    const promoted = createClient({ url: group.replicas[promotedIndex]?.url });
    await promoted.connect();
    try {
      expect(Number(await promoted.zScore(PAGES_KEY, "failover"))).toBeGreaterThanOrEqual(Math.max(...acked));
    } finally {
      await promoted.close();
    }
  });
});

async function redisRole(url: string): Promise<string> {
  const client = createClient({ url });
  await client.connect();
  try {
    return String(((await client.sendCommand(["ROLE"])) as unknown[])[0]);
  } finally {
    await client.close();
  }
}
