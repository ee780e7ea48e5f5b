import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { closeSshMasters, configure } from "@pifleet/ansible-bridge";
import { type Fleet, loadFleetFile } from "@pifleet/fleet";
import { run } from "@pifleet/io";
import { type SimStatus, simDown, simUp } from "@pifleet/sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BuildResult, buildImages } from "../images/build.js";
import { IMAGE_LABEL } from "../images/recipe.js";
import { deployStack } from "./deploy.js";

// End to end: a 3-node sim configured by the real site.yml (Docker, registry, Swarm with
// pifleet's node labels), the real images, `docker stack deploy` over SSH with pinned host keys.
const log = (m: string) => process.stderr.write(`[app deploy itest] ${m}\n`);
const BROKEN_TAG = `pifleet/counter:amd64-broken-${process.pid}`;
let dir = "";
let sim: SimStatus;
let fleet: Fleet;
let images: BuildResult;
let lb = "";

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "pf-app-"));
  const cluster = async () => {
    sim = await simUp({ dir: join(dir, "sim"), nodes: 3, gitlab: false, progress: log });
    fleet = (await loadFleetFile(sim.fleetFile)).fleet;
    const started = Date.now();
    const configured = await configure({ fleet, workDir: join(dir, "ansible"), tags: ["base", "docker", "registry", "swarm"] });
    log(`configure: exit ${configured.exitCode} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    return configured;
  };
  // Both mostly wait on downloads (debootstrap and apt): side by side they fit the time budget.
  const [built, configured] = await Promise.all([buildImages("amd64", log), cluster()]);
  images = built;
  expect(configured.failures).toEqual([]);
  const lbNode = sim.nodes.find((n) => n.name === "pi1");
  lb = `http://${lbNode?.address}:80`;
});

afterAll(async () => {
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
    const result = await deployStack(images.tags, { fleet, progress: log });
    expect(result.outcome).toBe("converged");
    expect(result.images.app).toBe(`${sim.nodes[0]?.address}:5000/${images.tags.app}`);
    const byName = Object.fromEntries(result.services.map((s) => [s.name, `${s.running}/${s.desired}`]));
    expect(byName).toEqual({ pifleet_app: "3/3", pifleet_lb: "1/1", pifleet_redis: "1/1" });
    const appNodes = result.tasks.filter((t) => t.service === "pifleet_app" && t.desiredState === "Running").map((t) => t.node);
    expect(appNodes.sort()).toEqual(["pi1", "pi2", "pi3"]);
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
    const result = await deployStack({ ...images.tags, app: BROKEN_TAG }, { fleet, progress: log });
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
