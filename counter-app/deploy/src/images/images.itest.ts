import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { run } from "@pifleet/io";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BuildResult, buildImages } from "./build.js";
import { NODE_VERSION } from "./recipe.js";

/**
 * The two images working together on one Docker network, without Swarm:
 * two app containers share the network alias tasks.pifleet_app, which Docker's
 * DNS answers with both addresses, as Swarm's tasks.<service> does. Redis is no
 * image (the fleet runs Debian's on the redis nodes): this machine's
 * redis-server listens on the network's gateway address for the test.
 */
const LABEL = "pifleet.counter.test=images";
const PREFIX = `pifleet-counter-it-${process.pid}`;
const NETWORK = `${PREFIX}-net`;

let images: BuildResult;
const containers: string[] = [];
let redis: ChildProcess | undefined;

async function docker(...args: string[]): Promise<string> {
  return (await run("docker", args)).stdout.trim();
}

async function ipOf(name: string): Promise<string> {
  return docker("inspect", "-f", `{{(index .NetworkSettings.Networks "${NETWORK}").IPAddress}}`, name);
}

async function start(name: string, args: string[]): Promise<string> {
  await docker("run", "-d", "--name", name, "--label", LABEL, "--network", NETWORK, ...args);
  containers.push(name);
  return ipOf(name);
}

beforeAll(async () => {
  const t0 = Date.now();
  const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(1)} s`;
  images = await buildImages("amd64", { progress: (m) => process.stderr.write(`[images] ${elapsed()} ${m}\n`) });
  process.stderr.write(`[images] ${elapsed()} built ${images.built.length} (${images.built.join(", ") || "all cached"})\n`);
  await docker("network", "create", "--label", LABEL, NETWORK);
}, 900_000);

afterAll(async () => {
  for (const c of containers) await run("docker", ["rm", "-f", "-v", c], { allowFailure: true });
  redis?.kill("SIGTERM");
  await run("docker", ["network", "rm", NETWORK], { allowFailure: true });
});

describe("counter images", () => {
  it("the app image is non-root, labelled, and has a HEALTHCHECK", async () => {
    const user = await docker("image", "inspect", "-f", "{{.Config.User}}", images.tags.app);
    const labels = JSON.parse(await docker("image", "inspect", "-f", "{{json .Config.Labels}}", images.tags.app)) as Record<string, string>;
    const health = await docker("image", "inspect", "-f", "{{json .Config.Healthcheck.Test}}", images.tags.app);
    expect(user).toBe("node");
    expect(labels["org.opencontainers.image.title"]).toBe("pifleet counter");
    expect(labels["org.opencontainers.image.version"]).toBe(images.tags.app.split(":")[1]);
    expect(labels["pifleet.counter.image"]).toBe("app");
    expect(JSON.parse(health)).toEqual(["CMD", "node", "dist/app/healthcheck.js"]);
  });

  it("the app image runs the pinned Node LTS, not the Node that built it", async () => {
    expect(await docker("run", "--rm", "--label", LABEL, images.tags.app, "node", "--version")).toBe(`v${NODE_VERSION}`);
  });

  it("serves through HAProxy from both app replicas, every view a distinct increasing count", async () => {
    const subnet = await docker("network", "inspect", "-f", "{{(index .IPAM.Config 0).Subnet}}", NETWORK);
    expect(subnet).toMatch(/^198\.(18|19)\./);

    const gateway = await docker("network", "inspect", "-f", "{{(index .IPAM.Config 0).Gateway}}", NETWORK);
    const port = await freePort();
    const server = spawn(
      "redis-server",
      ["--port", String(port), "--bind", gateway, "--protected-mode", "no", "--save", "", "--appendonly", "no"],
      {
        stdio: "ignore",
      },
    );
    redis = server;
    await expect
      .poll(async () => (await run("redis-cli", ["-h", gateway, "-p", String(port), "ping"], { allowFailure: true })).stdout.trim(), {
        timeout: 10_000,
        interval: 100,
        message: "redis-server on the network's gateway",
      })
      .toBe("PONG");
    for (const n of ["pi-a", "pi-b"]) {
      await start(`${PREFIX}-app-${n}`, [
        "--network-alias",
        "tasks.pifleet_app",
        "-e",
        `REDIS_URL=redis://${gateway}:${port}`,
        "-e",
        `NODE_NAME=${n}`,
        "--memory",
        "192m",
        images.tags.app,
      ]);
    }
    const lb = await start(`${PREFIX}-lb`, [
      "-e",
      "APP_SERVICE=pifleet_app",
      "-e",
      "APP_PORT=8080",
      "-e",
      "APP_SLOTS=4",
      images.tags.loadBalancer,
    ]);

    const appUser = await docker("exec", `${PREFIX}-app-pi-a`, "id", "-u");
    expect(appUser).toBe("1000");
    await expect
      .poll(async () => (await docker("inspect", "-f", "{{.State.Health.Status}}", `${PREFIX}-app-pi-a`)) === "healthy", {
        timeout: 60_000,
        interval: 100,
        message: "app healthy",
      })
      .toBe(true);
    await expect
      .poll(async () => (await fetch(`http://${lb}:8080/readyz`)).ok, { timeout: 60_000, interval: 100, message: "LB serving" })
      .toBe(true);
    // Both replicas pass HAProxy's readiness check before the count starts.
    await expect
      .poll(
        async () => {
          const nodes = new Set<string>();
          for (let i = 0; i < 8; i++)
            nodes.add(((await (await fetch(`http://${lb}:8080/api/stats`)).json()) as { servedBy: { node: string } }).servedBy.node);
          return nodes.size === 2;
        },
        { timeout: 30_000, interval: 100, message: "both replicas in the LB" },
      )
      .toBe(true);

    const counts: number[] = [];
    for (let i = 0; i < 40; i++) {
      const res = await fetch(`http://${lb}:8080/api/views/images-it`);
      expect(res.status).toBe(200);
      counts.push(((await res.json()) as { views: number }).views);
    }
    expect(counts).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    const stats = (await (await fetch(`http://${lb}:8080/api/stats`)).json()) as { nodes: Record<string, number> };
    expect(Object.keys(stats.nodes).sort()).toEqual(["pi-a", "pi-b"]);
    expect(Object.values(stats.nodes).every((n) => n > 0)).toBe(true);
    expect((await fetch(`http://${lb}:8404/healthz`)).status).toBe(200);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
