import { pino } from "pino";
import { type AppConfig, loadConfig } from "../app/config.js";
import { type RunningApp, startCounterApp } from "../app/server.js";
import { type LocalRedis, startLocalRedis } from "../dev/redis-server.js";

/** A real redis-server on a loopback port plus the app in this process, on a free port. */
export interface Harness {
  redis: LocalRedis;
  app: RunningApp;
  base: string;
  /** The app's log lines (info and above), parsed. */
  logs: Array<Record<string, unknown>>;
  stop(): Promise<void>;
}

export async function startHarness(env: Record<string, string> = {}): Promise<Harness> {
  const redis = await startLocalRedis();
  const config: AppConfig = loadConfig({
    PORT: "0",
    HOST: "127.0.0.1",
    REDIS_URL: redis.url,
    NODE_NAME: "testnode",
    REPLICA_ID: "r1",
    ...env,
  });
  const logs: Array<Record<string, unknown>> = [];
  const capture = {
    write(line: string) {
      logs.push(JSON.parse(line) as Record<string, unknown>);
      if (process.env.COUNTER_TEST_LOG) process.stderr.write(line);
    },
  };
  const app = await startCounterApp(config, pino({ level: "info" }, capture));
  const base = `http://127.0.0.1:${app.port}`;
  await waitFor(async () => (await fetch(`${base}/readyz`)).status === 200, 10_000, "app ready");
  return {
    redis,
    app,
    base,
    logs,
    stop: async () => {
      await app.shutdown("test done");
      await redis.dispose();
    },
  };
}

export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
