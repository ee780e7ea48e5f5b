import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, redactUrl } from "./config.js";

describe("loadConfig", () => {
  it("reads PORT, REDIS_URL and NODE_NAME and fills defaults", () => {
    const c = loadConfig({ PORT: "9000", REDIS_URL: "redis://redis:6379", NODE_NAME: "pi2", REPLICA_ID: "3" });
    expect(c).toMatchObject({ port: 9000, redisUrl: "redis://redis:6379", nodeName: "pi2", replicaId: "3", logLevel: "info", drainMs: 0 });
    expect(c.shutdownTimeoutMs).toBe(10_000);
  });

  it("reports every bad variable at once, by name", () => {
    const attempt = () => loadConfig({ PORT: "99999", REDIS_URL: "http://x", NODE_NAME: "bad name!", LOG_LEVEL: "loud" });
    expect(attempt).toThrow(ConfigError);
    const message = (() => {
      try {
        attempt();
      } catch (err) {
        return (err as Error).message;
      }
    })();
    expect(message).toContain("PORT:");
    expect(message).toContain("REDIS_URL: must look like redis://HOST:PORT");
    expect(message).toContain("NODE_NAME: must be 1-63 letters");
    expect(message).toContain("LOG_LEVEL:");
  });

  it("reads the Redis password from REDIS_PASSWORD_FILE (the stack's Docker secret), trimmed; none without it", () => {
    const files: Record<string, string> = { "/run/secrets/redis-password": "s3cretPassw0rd\n", "/empty": " \n" };
    const readText = (path: string) => {
      const text = files[path];
      if (text === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: "ENOENT" });
      return text;
    };
    expect(loadConfig({ REDIS_PASSWORD_FILE: "/run/secrets/redis-password" }, readText).redisPassword).toBe("s3cretPassw0rd");
    expect(loadConfig({}, readText)).not.toHaveProperty("redisPassword");
    expect(() => loadConfig({ REDIS_PASSWORD_FILE: "/missing" }, readText)).toThrow(
      new ConfigError("invalid environment:\n  REDIS_PASSWORD_FILE: cannot read /missing (ENOENT)"),
    );
    expect(() => loadConfig({ REDIS_PASSWORD_FILE: "/empty" }, readText)).toThrow(/REDIS_PASSWORD_FILE: \/empty is empty/);
  });

  it("follows the sentinels when REDIS_SENTINELS is set, and then needs one replica to acknowledge a count", () => {
    const c = loadConfig({ REDIS_SENTINELS: "198.19.255.11:26379, 198.19.255.12:26379" });
    expect(c.redisSentinels).toEqual([
      { host: "198.19.255.11", port: 26379 },
      { host: "198.19.255.12", port: 26379 },
    ]);
    expect(c).toMatchObject({ redisMasterName: "pifleet", redisAckReplicas: 1 });
    expect(loadConfig({}).redisAckReplicas).toBe(0);
    expect(loadConfig({ REDIS_SENTINELS: "pi1:26379", REDIS_ACK_REPLICAS: "2" }).redisAckReplicas).toBe(2);
    expect(() => loadConfig({ REDIS_SENTINELS: "pi1" })).toThrow(/REDIS_SENTINELS: must be a comma-separated list of HOST:PORT/);
  });

  it("gives WAIT half the batch's time, at most 1 s, unless REDIS_WAIT_TIMEOUT_MS says otherwise (below REDIS_TIMEOUT_MS)", () => {
    expect(loadConfig({}).redisWaitTimeoutMs).toBe(1000);
    expect(loadConfig({ REDIS_TIMEOUT_MS: "5000" })).toMatchObject({ redisTimeoutMs: 5000, redisWaitTimeoutMs: 1000 });
    expect(loadConfig({ REDIS_TIMEOUT_MS: "600" }).redisWaitTimeoutMs).toBe(300);
    expect(loadConfig({ REDIS_TIMEOUT_MS: "5000", REDIS_WAIT_TIMEOUT_MS: "200" }).redisWaitTimeoutMs).toBe(200);
    expect(() => loadConfig({ REDIS_TIMEOUT_MS: "1000", REDIS_WAIT_TIMEOUT_MS: "1000" })).toThrow(
      /REDIS_WAIT_TIMEOUT_MS: must be below REDIS_TIMEOUT_MS/,
    );
  });

  it("refuses a non-numeric port", () => {
    expect(() => loadConfig({ PORT: "eighty" })).toThrow(/PORT/);
  });
});

describe("redactUrl", () => {
  it("hides a password in the Redis URL", () => {
    expect(redactUrl("redis://:s3cret@redis:6379")).toBe("redis://***@redis:6379");
    expect(redactUrl("redis://redis:6379")).toBe("redis://redis:6379");
  });
});
