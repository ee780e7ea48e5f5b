import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { z } from "zod";

/** Runtime settings, all from the environment so one image runs on every Pi. */
export interface AppConfig {
  port: number;
  host: string;
  redisUrl: string;
  /** Sentinels to find the Redis primary through (REDIS_SENTINELS); empty: one Redis at redisUrl. */
  redisSentinels: { host: string; port: number }[];
  /** The name the sentinels monitor the primary under. */
  redisMasterName: string;
  /**
   * The Redis password, from the file REDIS_PASSWORD_FILE names (the stack mounts the fleet's Docker secret
   * there); sent as the user `default` to the servers and the sentinels. Undefined: Redis without one. Never logged.
   */
  redisPassword?: string;
  /**
   * Replicas that must confirm an increment (WAIT) before it is acknowledged: 1 with sentinels,
   * so a failover never loses a count a client saw; 0 for a single Redis (nothing to wait for).
   */
  redisAckReplicas: number;
  nodeName: string;
  replicaId: string;
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  /** How long SIGTERM waits with /readyz at 503 before it stops accepting, so a load balancer notices first. */
  drainMs: number;
  /** Hard limit for the whole shutdown; keep it below the stack's stop_grace_period. */
  shutdownTimeoutMs: number;
  /** Answer 503 when Redis has not answered a batch within this time; Redis refuses the batch after it (not counted). */
  redisTimeoutMs: number;
  /**
   * How long a replica has to confirm a batch (WAIT); the batch must run that long before redisTimeoutMs.
   * A healthy replica confirms within milliseconds; the rest of the batch's time is for finding the primary.
   */
  redisWaitTimeoutMs: number;
  /** Views sent to Redis and not yet answered, at most; beyond it a view is a 503 at once, never sent. */
  redisQueueLimit: number;
  /** Distinct pages kept; a new page beyond it evicts the page with the fewest views. */
  pagesMax: number;
  /** A client that has not sent its whole request head by then is cut (node:http headersTimeout). */
  headersTimeoutMs: number;
  /** Open client connections at most (the load balancers' and probes'); more are closed at once. */
  maxConnections: number;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
/** host:port with a port, e.g. 198.19.255.11:26379. */
const SENTINEL = /^[A-Za-z0-9.-]+:\d{1,5}$/;
const intFrom = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const EnvSchema = z
  .object({
    PORT: intFrom(0, 65535).default(8080),
    HOST: z.string().min(1).default("0.0.0.0"),
    REDIS_URL: z
      .string()
      .default("redis://127.0.0.1:6379")
      .refine((v) => /^rediss?:\/\/[^\s]+$/.test(v), "must look like redis://HOST:PORT"),
    REDIS_SENTINELS: z
      .string()
      .default("")
      .refine(
        (v) => v === "" || v.split(",").every((s) => SENTINEL.test(s.trim())),
        "must be a comma-separated list of HOST:PORT (the sentinels)",
      ),
    REDIS_MASTER_NAME: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/, "must be the name the sentinels monitor")
      .default("pifleet"),
    REDIS_PASSWORD_FILE: z.string().min(1).optional(),
    REDIS_ACK_REPLICAS: intFrom(0, 16).optional(),
    NODE_NAME: z.string().regex(NAME, "must be 1-63 letters, digits, _ . - (the node's hostname)").optional(),
    REPLICA_ID: z.string().regex(NAME, "must be 1-63 letters, digits, _ . -").optional(),
    LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    DRAIN_MS: intFrom(0, 60_000).default(0),
    SHUTDOWN_TIMEOUT_MS: intFrom(100, 120_000).default(10_000),
    REDIS_TIMEOUT_MS: intFrom(10, 60_000).default(2_000),
    REDIS_WAIT_TIMEOUT_MS: intFrom(5, 60_000).optional(),
    REDIS_QUEUE_LIMIT: intFrom(1, 1_000_000).default(10_000),
    PAGES_MAX: intFrom(1, 1_000_000).default(1_000),
    HEADERS_TIMEOUT_MS: intFrom(1_000, 60_000).default(10_000),
    MAX_CONNECTIONS: intFrom(1, 100_000).default(1_024),
  })
  .refine((e) => e.REDIS_WAIT_TIMEOUT_MS === undefined || e.REDIS_WAIT_TIMEOUT_MS < e.REDIS_TIMEOUT_MS, {
    path: ["REDIS_WAIT_TIMEOUT_MS"],
    message: "must be below REDIS_TIMEOUT_MS (a batch needs time to run before the replicas confirm it)",
  });

/** WAIT's default: half the batch's time, at most 1 s (a healthy replica confirms within milliseconds). */
const MAX_DEFAULT_WAIT_MS = 1_000;

export class ConfigError extends Error {}

/** The password in REDIS_PASSWORD_FILE (trimmed); a missing, unreadable or empty file is a ConfigError naming it. */
function readRedisPassword(file: string, readText: (path: string) => string): string {
  let text: string;
  try {
    text = readText(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : String(err));
    throw new ConfigError(`invalid environment:\n  REDIS_PASSWORD_FILE: cannot read ${file} (${code})`);
  }
  const password = text.trim();
  if (password === "") throw new ConfigError(`invalid environment:\n  REDIS_PASSWORD_FILE: ${file} is empty`);
  return password;
}

/** Reads and validates the environment; every problem is reported at once, naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv, readText = (path: string) => readFileSync(path, "utf8")): AppConfig {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new ConfigError(`invalid environment:\n${problems.join("\n")}`);
  }
  const e = parsed.data;
  const host = hostname();
  const redisSentinels = e.REDIS_SENTINELS.split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")
    .map((s) => {
      const colon = s.lastIndexOf(":");
      return { host: s.slice(0, colon), port: Number(s.slice(colon + 1)) };
    });
  return {
    port: e.PORT,
    host: e.HOST,
    redisUrl: e.REDIS_URL,
    redisSentinels,
    redisMasterName: e.REDIS_MASTER_NAME,
    ...(e.REDIS_PASSWORD_FILE ? { redisPassword: readRedisPassword(e.REDIS_PASSWORD_FILE, readText) } : {}),
    redisAckReplicas: e.REDIS_ACK_REPLICAS ?? (redisSentinels.length > 0 ? 1 : 0),
    nodeName: e.NODE_NAME ?? host,
    replicaId: e.REPLICA_ID ?? host,
    logLevel: e.LOG_LEVEL,
    drainMs: e.DRAIN_MS,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    redisTimeoutMs: e.REDIS_TIMEOUT_MS,
    redisWaitTimeoutMs: e.REDIS_WAIT_TIMEOUT_MS ?? Math.max(5, Math.min(MAX_DEFAULT_WAIT_MS, Math.floor(e.REDIS_TIMEOUT_MS / 2))),
    redisQueueLimit: e.REDIS_QUEUE_LIMIT,
    pagesMax: e.PAGES_MAX,
    headersTimeoutMs: e.HEADERS_TIMEOUT_MS,
    maxConnections: e.MAX_CONNECTIONS,
  };
}

/** The Redis URL with any password replaced, for logs. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, "//***@");
}
