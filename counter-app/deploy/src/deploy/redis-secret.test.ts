import { recordingShell, Secret } from "@pifleet/io";
import { describe, expect, it } from "vitest";
import { testFleet } from "../test-support/fleets.js";
import { appTopology } from "./cluster.js";
import { ensureRedisSecret, readRedisPassword, redisSecretName, serviceSecrets } from "./redis-secret.js";

const PASSWORD = "Zq3vR8kLm2Xw9Tb4Np7Hc1Yd6Fg5Js0Ua8Ke3Wi2";
const { redisNodes, manager } = appTopology(testFleet({ redisNodes: ["pi1", "pi2", "pi3"] }));

describe("the Redis password's Docker secret", () => {
  it("is named by a hash of the password: the same for the same one, another for another, never the password", () => {
    const name = redisSecretName(new Secret(PASSWORD));
    expect(name).toMatch(/^pifleet_redis_password_[0-9a-f]{16}$/);
    expect(redisSecretName(new Secret(PASSWORD))).toBe(name);
    expect(redisSecretName(new Secret(`${PASSWORD}x`))).not.toBe(name);
    expect(name).not.toContain(PASSWORD.slice(0, 8));
  });

  it("reads the password as root from the first redis node that has one, skipping one that fails or has none", async () => {
    const shell = recordingShell((c) =>
      c.node === "pi1" ? { code: 255, stderr: "ssh: connect refused" } : c.node === "pi2" ? "" : `${PASSWORD}\n`,
    );
    const password = await readRedisPassword(shell, redisNodes);
    expect(password?.reveal()).toBe(PASSWORD);
    expect(`${password}`).toBe("[redacted]");
    expect(shell.calls.map((c) => [c.node, c.root, c.script])).toEqual(
      ["pi1", "pi2", "pi3"].map((n) => [n, true, "cat /etc/redis/pifleet-password 2>/dev/null || true"]),
    );
  });

  it("is undefined when no redis node has the password yet", async () => {
    expect(await readRedisPassword(recordingShell(), redisNodes)).toBeUndefined();
  });

  it("is created on the manager from stdin unless it exists: the password is in no script", async () => {
    const shell = recordingShell();
    const name = await ensureRedisSecret(shell, manager, new Secret(PASSWORD));
    expect(name).toBe(redisSecretName(new Secret(PASSWORD)));
    expect(shell.calls).toEqual([
      {
        node: manager.name,
        root: false,
        input: PASSWORD,
        script: `docker secret inspect ${name} >/dev/null 2>&1 || docker secret create --label pifleet.redis-password=true ${name} - >/dev/null`,
      },
    ]);
  });

  it("lists the secrets a service has, none for a service that does not exist", async () => {
    expect(
      await serviceSecrets(
        recordingShell(() => "pifleet_redis_password_0123456789abcdef \n"),
        manager,
        "pifleet_app",
      ),
    ).toEqual(["pifleet_redis_password_0123456789abcdef"]);
    expect(
      await serviceSecrets(
        recordingShell(() => ""),
        manager,
        "pifleet_app",
      ),
    ).toEqual([]);
  });
});
