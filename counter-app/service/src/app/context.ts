import type { Logger } from "pino";
import type { ViewBatcher } from "./batcher.js";
import type { AppConfig } from "./config.js";
import type { Metrics } from "./metrics.js";
import type { Redis } from "./redis-store.js";
import type { WriteHealth } from "./write-health.js";

/** What the request handlers share. */
export interface AppContext {
  config: AppConfig;
  log: Logger;
  /** Replaced when a sentinel client gave up before its first connection (server.ts). */
  redis: Redis;
  batcher: ViewBatcher;
  /** Whether Redis takes writes, from every batch and probe. */
  writes: WriteHealth;
  metrics: Metrics;
  state: { shuttingDown: boolean };
}
