import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { closeSshMasters, configure } from "@pifleet/ansible-bridge";
import { type Fleet, type FleetNode, type FleetTopology, loadFleetFile } from "@pifleet/fleet";
import { run, sshShell } from "@pifleet/io";
import { type SimStatus, simDown, simFault, simUp } from "@pifleet/sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BuildResult, buildAndPushImages, buildImages } from "../images/build.js";
import { IMAGE_LABEL } from "../images/recipe.js";
import { pushManifestLists } from "../images/registry.js";
import { startLoad } from "../load/probe.js";
import { renderLoadSummary } from "../load/summary.js";
import { forwardDockerSocket } from "../test-support/docker-socket.js";
import { deployStack, stackStatus } from "./deploy.js";
import { handOffRedisPrimary, parseReplicationInfo, redisCli, redisPrimary } from "./redis-failover.js";
import type { StackImages } from "./stack.js";

// End to end: a 3-node sim configured by the real site.yml (Docker, registry, Swarm with
// pifleet's node labels, Redis with sentinels on all three), the real images, `docker stack deploy`
// over SSH with pinned host keys.
const log = (m: string) => process.stderr.write(`[app deploy itest] ${m}\n`);
const BROKEN_TAG = `pifleet/counter:amd64-broken-${process.pid}`;
let dir = "";
let sim: SimStatus;
let fleet: Fleet;
let topology: FleetTopology;
let images: BuildResult;
let stopForward: (() => Promise<void>) | undefined;
let lb = "";

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "pf-app-"));
  const cluster = async () => {
    sim = await simUp({ dir: join(dir, "sim"), nodes: 3, gitlab: false, progress: log });
    ({ fleet, topology } = await loadFleetFile(sim.fleetFile));
    const started = Date.now();
    const configured = await configure({
      fleet,
      workDir: join(dir, "ansible"),
      tags: ["base", "docker", "registry", "swarm", "redis", "keepalived"],
    });
    log(`configure: exit ${configured.exitCode} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    return configured;
  };
  // Both mostly wait on downloads (debootstrap and apt): side by side they fit the time budget.
  const [built, configured] = await Promise.all([buildImages("amd64", { progress: log }), cluster()]);
  images = built;
  expect(configured.failures).toEqual([]);
  // The VIP keepalived keeps on one of the two load balancers.
  lb = topology.loadBalancer?.url ?? "";
});

afterAll(async () => {
  await stopForward?.();
  await run("docker", ["rmi", BROKEN_TAG], { allowFailure: true });
  if (dir) {
    await closeSshMasters(join(dir, "ansible")).catch(() => undefined);
    await simDown(join(dir, "sim")).catch((err) => log(`sim down failed: ${String(err)}`));
    await rm(dir, { recursive: true, force: true });
  }
});

async function json<T>(path: string): Promise<T> {
  const res = await fetch(`${lb}${path}`, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`${path}: ${res.status}`);
  return (await res.json()) as T;
}

describe("pifleet app deploy on a configured sim", () => {
  it("pushes the images, deploys the stack and waits until it converges", async () => {
    const result = await deployStack({ built: images.tags }, { fleet, progress: log });
    expect(result.outcome).toBe("converged");
    // Deployed by the digest the push gave: the service runs that, whatever the tag names later.
    const [pushedRef, digest] = result.images.app.split("@");
    expect(pushedRef).toBe(`${sim.nodes[0]?.address}:5000/${images.tags.app}`);
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    const appImages = new Set(result.tasks.filter((t) => t.service === "pifleet_app" && t.desiredState === "Running").map((t) => t.image));
    expect([...appImages]).toEqual([result.images.app]);
    log(`the app service runs ${result.images.app}`);
    const byName = Object.fromEntries(result.services.map((s) => [s.name, `${s.running}/${s.desired}`]));
    const lbs = topology.loadBalancer?.nodes.length ?? 0;
    expect(byName).toEqual({ pifleet_app: "3/3", pifleet_lb: `${lbs}/${lbs}` });
    const appNodes = result.tasks.filter((t) => t.service === "pifleet_app" && t.desiredState === "Running").map((t) => t.node);
    expect(appNodes.sort()).toEqual(["pi1", "pi2", "pi3"]);
  });

  it("the app has the fleet's Redis password as a Docker secret, and Redis and the sentinels take nothing without it", async () => {
    const redisNode = { name: "pi2", address: sim.nodes[1]?.address ?? "" };
    const shell = sshShell(fleet.ssh);
    try {
      const secrets = (
        await shell.run(topology.primaryManager, [
          "docker",
          "service",
          "inspect",
          "--format",
          "{{range .Spec.TaskTemplate.ContainerSpec.Secrets}}{{.SecretName}} {{.File.Name}}{{end}}",
          "pifleet_app",
        ])
      ).stdout.trim();
      expect(secrets).toMatch(/^pifleet_redis_password_[0-9a-f]{16} redis-password$/);
      for (const port of [6379, 26379]) {
        const bare = await shell.run(redisNode, ["redis-cli", "-h", redisNode.address, "-p", String(port), "PING"], { allowFailure: true });
        expect(`${bare.stdout}${bare.stderr}`.trim(), `port ${port} without the password`).toBe("NOAUTH Authentication required.");
        const authed = await shell.run(redisNode, redisCli({ host: redisNode.address, port }, "PING"), { root: true });
        expect(authed.stdout.trim(), `port ${port} with the password`).toBe("PONG");
      }
    } finally {
      await shell.close();
    }
  });

  it("through the load balancer, N requests get N distinct increasing counts, served by more than one node", async () => {
    // HAProxy adds a replica after two passed readiness checks.
    await expect
      .poll(
        async () => {
          const seen = new Set<string>();
          for (let i = 0; i < 9; i++) seen.add((await json<{ servedBy: { node: string } }>("/api/stats")).servedBy.node);
          return seen.size === 3;
        },
        { timeout: 90_000, interval: 100, message: "all three replicas behind the LB" },
      )
      .toBe(true);
    const counts: number[] = [];
    for (let i = 0; i < 30; i++) counts.push((await json<{ views: number }>("/api/views/e2e")).views);
    expect(counts).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    const stats = await json<{ nodes: Record<string, number>; pages: Record<string, number> }>("/api/stats");
    expect(stats.pages.e2e).toBe(30);
    expect(Object.values(stats.nodes).filter((n) => n > 0).length).toBeGreaterThan(1);
  });

  it("rolls a failing update back by itself, says so, and keeps counting", async () => {
    // An app image whose process dies at start: the update must fail and Swarm must roll back.
    await run("docker", ["build", "-t", BROKEN_TAG, "--label", `${IMAGE_LABEL}=test-broken`, "-"], {
      input: `FROM ${images.tags.app}\nCMD ["node", "-e", "process.exit(1)"]\n`,
      env: { ...process.env, DOCKER_BUILDKIT: "0" },
    });
    const before = (await json<{ views: number }>("/api/views/e2e")).views;
    const result = await deployStack({ built: { ...images.tags, app: BROKEN_TAG } }, { fleet, progress: log });
    expect(result.outcome).toBe("rolled-back");
    expect(result.previousAppImage).toContain(images.tags.app);
    const app = result.tasks.filter((t) => t.service === "pifleet_app" && t.desiredState === "Running");
    expect(app.every((t) => t.image.includes(images.tags.app))).toBe(true);
    await expect
      .poll(async () => (await json<{ views: number }>("/api/views/e2e")).views > before, {
        timeout: 60_000,
        interval: 100,
        message: "counting after rollback",
      })
      .toBe(true);
  });
});

describe("the cluster registry listens on the cluster network only (registry role; issue 13 finding 8)", () => {
  it("answers on the registry node's cluster address, and on no other address the node has", async () => {
    const { node, port, host } = topology.registry;
    const shell = sshShell(fleet.ssh);
    try {
      const started = Date.now();
      const listening = (await shell.run(node, ["ss", "-Hltn", `sport = :${port}`])).stdout
        .trim()
        .split("\n")
        .map((line) => line.trim().split(/\s+/)[3]);
      expect(listening).toEqual([`${node.address}:${port}`]);
      // Loopback, the nested engine's bridges (the gateways of the node's job containers), the VIP if it holds it.
      const addresses = [...(await shell.run(node, ["ip", "-4", "-o", "address", "show"])).stdout.matchAll(/ inet ([0-9.]+)\//g)].map(
        (m) => m[1] as string,
      );
      const others = addresses.filter((a) => a !== node.address);
      expect(others).toContain("127.0.0.1");
      const connects = async (address: string) =>
        (await shell.run(node, ["timeout", "3", "bash", "-c", `exec 3<>/dev/tcp/${address}/${port}`], { allowFailure: true })).code === 0;
      const reachable = Object.fromEntries(await Promise.all(addresses.map(async (a) => [a, await connects(a)] as const)));
      expect(reachable).toEqual(Object.fromEntries(addresses.map((a) => [a, a === node.address])));
      // This machine is on the sim's cluster network, as a Pi or a laptop on it would be.
      expect((await fetch(`http://${host}/v2/`, { signal: AbortSignal.timeout(5000) })).status).toBe(200);
      log(`registry on ${node.name}: listens on ${listening.join(", ")}; refused on ${others.join(", ")} (${Date.now() - started} ms)`);
    } finally {
      await shell.close();
    }
  });
});

describe("Redis without a single point of failure (role redis: redis-server + sentinel on pi1-pi3)", () => {
  it("kill the primary's redis-server under a trickle of increments: sentinel promotes, the app follows, no acknowledged count lost", async () => {
    const shell = sshShell(fleet.ssh);
    try {
      const primary = await redisPrimary({ fleet, shell });
      const acked: number[] = [];
      let failed = 0;
      let stoppedAt = 0;
      let resumedAt = 0;
      let firstFailure = 0;
      const started = Date.now();
      // Bounded: one request at a time for at most 60 s, until 5 s after counting resumed.
      const trickle = (async () => {
        while (Date.now() - started < 60_000 && !(resumedAt && Date.now() - resumedAt > 5000)) {
          const views = await json<{ views: number }>("/api/views/failover").then(
            (b) => b.views,
            () => undefined,
          );
          if (views === undefined) {
            failed++;
            if (stoppedAt) firstFailure ||= Date.now();
          } else {
            acked.push(views);
            if (firstFailure && !resumedAt) resumedAt = Date.now();
          }
          await new Promise((r) => setTimeout(r, 20));
        }
      })();
      await new Promise((r) => setTimeout(r, 2000));
      stoppedAt = Date.now();
      await shell.run(primary, ["systemctl", "stop", "redis-server"], { root: true, describe: "stop the primary's redis-server" });
      await trickle;
      const promoted = await redisPrimary({ fleet, shell });
      log(
        `Redis failover: ${primary.name} stopped → ${promoted.name} primary; ${acked.length} acknowledged, ${failed} failed; ` +
          `counting resumed ${((resumedAt - stoppedAt) / 1000).toFixed(1)} s after the stop`,
      );
      expect(promoted.name).not.toBe(primary.name);
      expect(resumedAt).toBeGreaterThan(stoppedAt);
      // A lost acknowledged count would make the new primary hand the same number out again.
      expect(new Set(acked).size).toBe(acked.length);
      expect((await json<{ pages: Record<string, number> }>("/api/stats")).pages.failover).toBeGreaterThanOrEqual(Math.max(...acked));

      // The old primary comes back as a replica; a rerun of the role does not undo the failover.
      let t = Date.now();
      const rerun = await configure({ fleet, workDir: join(dir, "ansible"), tags: ["redis"] });
      log(`configure --tags redis after the failover: exit ${rerun.exitCode} in ${((Date.now() - t) / 1000).toFixed(0)} s`);
      expect(rerun.failures).toEqual([]);
      expect((await redisPrimary({ fleet, shell })).name).toBe(promoted.name);

      // The hook rolling changes use: hand the primary away and wait until the old one is a synced replica.
      t = Date.now();
      const handOff = await handOffRedisPrimary(promoted.name, { fleet, shell, progress: log });
      log(`handOffRedisPrimary(${promoted.name}): ${((Date.now() - t) / 1000).toFixed(1)} s, now ${handOff.primary.name}`);
      expect(handOff.moved).toBe(true);
      expect(handOff.primary.name).not.toBe(promoted.name);
      const info = parseReplicationInfo(
        (await shell.run(promoted, redisCli({ port: 6379 }, "INFO", "replication"), { root: true })).stdout,
      );
      expect(info).toMatchObject({ role: "slave", masterHost: handOff.primary.address, synced: true });
      await expect
        .poll(async () => (await json<{ views: number }>("/api/views/failover").catch(() => ({ views: 0 }))).views > Math.max(...acked), {
          timeout: 30_000,
          interval: 200,
          message: "counting after the hand-off",
        })
        .toBe(true);
    } finally {
      await shell.close();
    }
  });
});

describe("build once on a node's engine, deploy what was built (the pipeline's way)", () => {
  let report: Awaited<ReturnType<typeof buildAndPushImages>>;
  let pinned: StackImages;

  it("app build --push on pi2's engine builds on the registry's base, pushes, and finds it all there the next time", async () => {
    const registry = topology.registry;
    const pi2 = sim.nodes.find((n) => n.name === "pi2");
    if (!pi2) throw new Error("no pi2");
    // The pipeline's PIFLEET_DEBIAN_IMAGE in the cluster registry, as the sim's mirror provides it:
    // this machine's debootstrapped Debian, copied to the registry node and pushed from there.
    const base = `${registry.host}/pifleet-itest/debian:bookworm`;
    const shell = sshShell(fleet.ssh);
    try {
      await shell.pipeTo(registry.node, ["docker", ["save", images.tags.debian]], ["docker", "load", "-q"]);
      await shell.run(registry.node, ["docker", "tag", images.tags.debian, base]);
      await shell.run(registry.node, ["docker", "push", base]);
    } finally {
      await shell.close();
    }

    // pi2's engine, as a job's mounted socket; apt in its builds and npm here through the sim's proxy.
    const forward = await forwardDockerSocket(fleet.ssh, pi2, dir);
    stopForward = forward.stop;
    const saved = { DOCKER_HOST: process.env.DOCKER_HOST, PIFLEET_BUILD_PROXY: process.env.PIFLEET_BUILD_PROXY };
    process.env.DOCKER_HOST = forward.dockerHost;
    process.env.PIFLEET_BUILD_PROXY = sim.aptProxy;
    const prefix = `${registry.host}/pifleet`;
    try {
      let started = Date.now();
      report = await buildAndPushImages("amd64", prefix, { baseImage: base, progress: log });
      log(`build --push on pi2's engine: ${((Date.now() - started) / 1000).toFixed(0)} s, built ${report.built.join(", ")}`);
      expect(report.built).toContain(report.tags.app);
      expect(report.pushed).toEqual([report.images.app.ref, report.images.loadBalancer.ref]);
      expect(report.images.app.ref).toBe(`${prefix}/counter:${report.tags.app.split(":amd64-")[1]}-amd64`);
      // pi2 pulled the base from the registry and built on it: the app image's bottom layer is the base's.
      const layers = async (ref: string) =>
        JSON.parse((await run("docker", ["image", "inspect", "--format", "{{json .RootFS.Layers}}", ref])).stdout) as string[];
      expect((await layers(report.tags.app))[0]).toBe((await layers(base))[0]);

      // Built once: the next build of the same checkout, on any node, finds every tag in the registry.
      started = Date.now();
      const again = await buildAndPushImages("amd64", prefix, { baseImage: base, progress: log });
      log(`build --push again: ${((Date.now() - started) / 1000).toFixed(1)} s`);
      expect(again.pushed).toEqual([]);
      expect(again.built).toEqual([]);
      expect(again.images).toEqual(report.images);
    } finally {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
      await forward.stop();
    }
  });

  it("app manifest makes a list per image in the registry, pinned by its digest", async () => {
    pinned = await pushManifestLists([report], log);
    const [list, digest] = pinned.app.split("@");
    expect(list).toBe(report.images.app.ref.replace(/-amd64$/, ""));
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(digest).not.toBe(report.images.app.digest);
    // The same builds give the same lists: a pipeline of an unchanged commit deploys nothing new.
    expect(await pushManifestLists([report])).toEqual(pinned);
  });

  it("deploy --images rolls out exactly those refs and counting goes on; deploying them again changes nothing", async () => {
    const before = (await json<{ views: number }>("/api/views/e2e")).views;
    const result = await deployStack({ registry: pinned }, { fleet, progress: log });
    expect(result.outcome).toBe("converged");
    expect(result.plan.changes.map((c) => c.service)).toEqual(["pifleet_app", "pifleet_lb"]);
    const running = result.tasks.filter((t) => t.desiredState === "Running");
    const imageOf = (service: string) => [...new Set(running.filter((t) => t.service === service).map((t) => t.image))];
    expect(imageOf("pifleet_app")).toEqual([pinned.app]);
    expect(imageOf("pifleet_lb")).toEqual([pinned.loadBalancer]);
    await expect
      .poll(async () => (await json<{ views: number }>("/api/views/e2e").catch(() => ({ views: 0 }))).views > before, {
        timeout: 90_000,
        interval: 200,
        message: "counting through the load balancer on the pinned images",
      })
      .toBe(true);
    const again = await deployStack({ registry: pinned }, { fleet, progress: log });
    expect(again.plan.changes).toEqual([]);
    expect(again.outcome).toBe("converged");
  });
});

describe("losing a whole node under load (keepalived VIP over two LBs, three Swarm managers, Redis with sentinels)", () => {
  it("stop the node holding the VIP and the Redis primary: the VIP and the primary move, counting resumes, no acknowledged count lost", async () => {
    const lb = topology.loadBalancer;
    if (!lb?.vip) throw new Error("the sim fleet has no app.loadBalancer.vip");
    const vip = lb.vip.address;
    const shell = sshShell(fleet.ssh);
    const holdsVip = async (node: FleetNode) =>
      (await shell.run(node, ["ip", "-4", "-brief", "address", "show"])).stdout.split(/\s+/).includes(`${vip}/${lb.vip?.prefixLength}`);
    const vipHolder = async () => {
      for (const node of lb.nodes) if (await holdsVip(node).catch(() => false)) return node;
      return undefined;
    };
    try {
      // Put the Redis primary and the VIP on one LB node, with the two hooks rolling changes use.
      let t = Date.now();
      let primary = await redisPrimary({ fleet, shell });
      if (!lb.nodes.some((n) => n.name === primary.name))
        primary = (await handOffRedisPrimary(primary.name, { fleet, shell, progress: log })).primary;
      await expect.poll(vipHolder, { timeout: 60_000, interval: 500, message: "a node holds the VIP" }).toBeDefined();
      const holder = await vipHolder();
      if (holder && holder.name !== primary.name) {
        await shell.run(holder, ["touch", "/run/keepalived-hand-away"], { root: true, describe: "hand the VIP away" });
        await expect
          .poll(async () => (await vipHolder())?.name, { timeout: 30_000, interval: 200, message: "the VIP moves" })
          .toBe(primary.name);
        await shell.run(holder, ["rm", "-f", "/run/keepalived-hand-away"], { root: true, describe: "make the node eligible again" });
      }
      const victim = primary;
      log(`setup: VIP ${vip} and the Redis primary on ${victim.name} in ${((Date.now() - t) / 1000).toFixed(1)} s`);
      expect((await fetch(`${lb.url}/readyz`)).status).toBe(200);

      // Steady load through the VIP; stop the node; keep counting; start it again; keep counting.
      const load = await startLoad({ url: lb.url, page: "node-loss", workers: 4, pauseMs: 20, maxSeconds: 150 });
      await new Promise((r) => setTimeout(r, 3000));
      const stopAt = load.elapsedMs();
      t = Date.now();
      await simFault(sim.dir, victim.name, "stop");
      log(`sim fault ${victim.name} stop: ${((Date.now() - t) / 1000).toFixed(1)} s`);
      const downUntil = t + 25_000;
      // `pifleet app status` while the node is down: read through a manager that answers (inside the wait, not added to it).
      // Its own SSH shell, as the command has: this test's shell keeps a connection to the stopped node that would hang.
      t = Date.now();
      const status = await stackStatus({ fleet, topology });
      log(`app status with ${victim.name} down: read through ${status.manager} in ${((Date.now() - t) / 1000).toFixed(1)} s`);
      expect(status.manager).not.toBe(victim.name);
      expect(status.services.map((svc) => svc.name).sort()).toEqual(["pifleet_app", "pifleet_lb"]);
      await new Promise((r) => setTimeout(r, Math.max(0, downUntil - Date.now())));
      const startAt = load.elapsedMs();
      t = Date.now();
      await simFault(sim.dir, victim.name, "start");
      log(`sim fault ${victim.name} start (sshd answers): ${((Date.now() - t) / 1000).toFixed(1)} s`);
      await new Promise((r) => setTimeout(r, 15_000));
      load.stop();
      const { summary, samples } = await load.done;

      const okAfter = (ms: number) => samples.filter((s) => s.ok && s.startMs > ms).length;
      const firstOkAfterStop = samples
        .filter((s) => s.ok && s.startMs > stopAt)
        .reduce((min, s) => Math.min(min, s.endMs), Number.POSITIVE_INFINITY);
      const failedAfterStop = samples.filter((s) => !s.ok && s.startMs >= stopAt);
      const lastFailure = failedAfterStop.reduce((max, s) => Math.max(max, s.endMs), stopAt);
      log(`node loss under load: ${renderLoadSummary(summary)}`);
      log(
        `node loss figures: ${summary.failed} failed requests, ${summary.lost} lost counts; ${victim.name} stopped at ${(stopAt / 1000).toFixed(1)} s, ` +
          `started at ${(startAt / 1000).toFixed(1)} s; last failure ${((lastFailure - stopAt) / 1000).toFixed(1)} s after the stop ` +
          `(service resumed); ${okAfter(stopAt)} ok after the stop, ${okAfter(startAt)} after the start; VIP now on ${(await vipHolder())?.name ?? "no node"}, ` +
          `Redis primary ${(await redisPrimary({ fleet, shell })).name}`,
      );
      expect(summary.lost).toBe(0);
      expect(summary.repeatedCounts).toBe(0);
      expect(Number.isFinite(firstOkAfterStop)).toBe(true);
      expect(okAfter(startAt)).toBeGreaterThan(0);
    } finally {
      await shell.close();
    }
  });
});
