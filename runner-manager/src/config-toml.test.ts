import { Secret } from "@pifleet/io";
import { describe, expect, it } from "vitest";
import { configChanges, type ManagedBlock, mergeConfig, parseConfig, renderConfig } from "./config-toml.js";
import type { NodeSettings, RunnerBlockSettings } from "./types.js";

const settings: NodeSettings = { concurrent: 4, checkInterval: 3, listenAddress: "198.18.0.11:9252", shutdownTimeout: 30 };
const block: RunnerBlockSettings = {
  name: "pifleet c/pi1/docker",
  url: "http://gitlab.test",
  executor: "docker",
  limit: 3,
  requestConcurrency: 2,
  docker: { image: "debian:bookworm-slim", memory: "512m", memorySwap: "512m", volumes: ["/cache"] },
};

const onDisk = `concurrent = 2
log_level = "warning"

[[runners]]
  name = "pifleet c/pi1/docker"
  url = "http://gitlab.test"
  id = 7
  token = "glrt-rotatedbytherunner01"
  token_obtained_at = 2026-11-01T10:00:00Z
  token_expires_at = 2026-12-01T10:00:00Z
  executor = "docker"
  limit = 1
  [runners.docker]
    image = "alpine"
    shm_size = 0

[[runners]]
  name = "hand-made runner"
  url = "http://gitlab.test"
  id = 99
  token = "glrt-somebodyelsestoken1"
  executor = "shell"
`;

describe("mergeConfig", () => {
  it("keeps the token gitlab-runner rotated itself, foreign blocks and unmanaged keys", () => {
    const current = parseConfig(onDisk, "pi1");
    const next = mergeConfig(current, settings, [{ runnerId: 7, settings: block }]);
    const text = renderConfig(next);
    const back = parseConfig(text, "pi1") as { runners: Record<string, unknown>[]; log_level: string };
    expect(back.log_level).toBe("warning");
    expect(back.runners).toHaveLength(2);
    expect(back.runners[0]).toMatchObject({ id: 7, token: "glrt-rotatedbytherunner01", limit: 3, request_concurrency: 2 });
    expect((back.runners[0] as { token_expires_at: Date }).token_expires_at.toISOString()).toBe("2026-12-01T10:00:00.000Z");
    expect(back.runners[0]?.docker).toMatchObject({ image: "debian:bookworm-slim", memory: "512m", shm_size: 0 });
    expect(back.runners[1]).toMatchObject({ name: "hand-made runner", token: "glrt-somebodyelsestoken1" });
    expect(text.startsWith("# Managed by pifleet")).toBe(true);
  });

  it("renders a socket pool's volumes as [runners.docker] volumes, and a change of them as one line", () => {
    const socket = { ...block, docker: { ...block.docker, volumes: ["/var/run/docker.sock:/var/run/docker.sock", "/cache"] } };
    const grant = { token: new Secret("glrt-brandnewtoken000004"), obtainedAt: new Date(0), expiresAt: null };
    const before = mergeConfig({}, settings, [{ runnerId: 8, settings: block, grant }]);
    const after = mergeConfig(before, settings, [{ runnerId: 8, settings: socket as RunnerBlockSettings }]);
    expect(renderConfig(after)).toContain('volumes = [ "/var/run/docker.sock:/var/run/docker.sock", "/cache" ]');
    expect(configChanges(before, after)).toEqual([
      'runner "pifleet c/pi1/docker" docker.volumes: ["/cache"] → ["/var/run/docker.sock:/var/run/docker.sock","/cache"]',
    ]);
  });

  it("writes a new token with its obtained and expiry times", () => {
    const grant = { token: new Secret("glrt-brandnewtoken000001"), obtainedAt: new Date("2026-11-24T00:00:00Z"), expiresAt: null };
    const next = mergeConfig({}, settings, [{ runnerId: 8, settings: block, grant }]) as { runners: Record<string, unknown>[] };
    expect(next.runners[0]).toMatchObject({ id: 8, token: "glrt-brandnewtoken000001" });
    expect((next.runners[0] as { token_expires_at: Date }).token_expires_at.toISOString()).toBe("0001-01-01T00:00:00.000Z");
  });

  it("drops pifleet blocks no longer wanted and is stable: merging its own output changes nothing", () => {
    const current = parseConfig(onDisk, "pi1");
    const first = mergeConfig(current, settings, []);
    expect((first.runners as unknown[]).length).toBe(1);
    const again = parseConfig(renderConfig(first), "pi1");
    expect(configChanges(again, mergeConfig(again, settings, []))).toEqual([]);
  });

  it("refuses a block it has no token for instead of writing a dead entry", () => {
    const managed: ManagedBlock[] = [{ runnerId: 5, settings: block }];
    expect(() => mergeConfig({}, settings, managed)).toThrow(/no token for runner #5/);
  });
});

describe("configChanges", () => {
  it("lists changes line by line and never shows a token", () => {
    const current = parseConfig(onDisk, "pi1");
    const grant = { token: new Secret("glrt-brandnewtoken000002"), obtainedAt: new Date(0), expiresAt: null };
    const lines = configChanges(current, mergeConfig(current, settings, [{ runnerId: 7, settings: block, grant }]));
    expect(lines).toContain("concurrent: 2 → 4");
    expect(lines).toContain('runner "pifleet c/pi1/docker" limit: 1 → 3');
    expect(lines).toContain('runner "pifleet c/pi1/docker" token: replaced');
    expect(lines.join("\n")).not.toMatch(/glrt-/);
  });

  it("marks keys a fresh node gets with + and dropped keys with -", () => {
    const fresh = configChanges({}, mergeConfig({}, settings, []));
    expect(fresh).toEqual(["+ concurrent = 4", "+ check_interval = 3", '+ listen_address = "198.18.0.11:9252"', "+ shutdown_timeout = 30"]);
    expect(configChanges({ concurrent: 1, sentry_dsn: "x" }, { concurrent: 1 })).toEqual(["- sentry_dsn"]);
  });

  it("summarises added and removed blocks in one line each", () => {
    const current = parseConfig(onDisk, "pi1");
    const other = { ...block, name: "pifleet c/pi1/deploy" };
    const grant = { token: new Secret("glrt-brandnewtoken000003"), obtainedAt: new Date(0), expiresAt: null };
    const lines = configChanges(current, mergeConfig(current, settings, [{ runnerId: 9, settings: other, grant }]));
    expect(lines).toContain('+ runner "pifleet c/pi1/deploy"');
    expect(lines).toContain('- runner "pifleet c/pi1/docker"');
    expect(lines.filter((l) => l.includes("pi1/docker"))).toHaveLength(1);
  });
});

describe("parseConfig", () => {
  it("reports bad TOML by node and position without echoing the file", () => {
    const text = 'concurrent = 1\n[[runners]]\n  token = "glrt-secretvalue1234567"\n  limit = = 2\n';
    try {
      parseConfig(text, "pi2");
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).toMatch(/^pi2: \/etc\/gitlab-runner\/config.toml is not valid TOML \(line 4, column \d+\)$/);
      expect((err as Error).message).not.toContain("glrt");
    }
  });
});
