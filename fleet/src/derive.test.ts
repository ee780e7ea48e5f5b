import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { swarmLabels } from "./cluster.js";
import { jobCapacity, nodeConcurrency, nodesByTag, poolNodes, tagsByNode } from "./derive.js";
import { fleetJsonSchemaText } from "./json-schema.js";
import { parseFleet } from "./load.js";
import type { FleetNode, RunnerPool } from "./schema.js";
import { resolveTopology } from "./topology.js";

const reference = parseFleet(readFileSync(new URL("../../examples/fleet.yaml", import.meta.url), "utf8"));
const pool = (over: Partial<RunnerPool>): RunnerPool => ({
  name: "p",
  executor: "docker",
  tags: [],
  jobMemoryMiB: 512,
  runUntagged: false,
  protected: false,
  dockerSocket: false,
  ...over,
});
const node = (over: Partial<FleetNode>): FleetNode => ({
  name: "n",
  address: "198.18.0.2",
  arch: "arm64",
  memoryMiB: 2048,
  cpus: 4,
  roles: ["runner"],
  labels: {},
  ...over,
});

describe("job capacity", () => {
  it("divides memory left after the OS reserve by per-job memory", () => {
    expect(jobCapacity(node({ memoryMiB: 2048 }), pool({ jobMemoryMiB: 512 }), 512)).toEqual({ jobs: 3, limitedBy: "memory" });
  });
  it("never exceeds the CPU count", () => {
    expect(jobCapacity(node({ memoryMiB: 8192, cpus: 4 }), pool({ jobMemoryMiB: 256 }), 512)).toEqual({ jobs: 4, limitedBy: "cpus" });
  });
  it("keeps at least one slot on a node too small for one job", () => {
    expect(jobCapacity(node({ memoryMiB: 1024 }), pool({ jobMemoryMiB: 1024 }), 512)).toEqual({ jobs: 1, limitedBy: "memory" });
  });
  it("gives each Pi the capacity of its largest pool", () => {
    // 1536 MiB after the reserve: one 1024 MiB container job on every Pi, three 512 MiB deploy jobs on pi1 and pi2;
    // with 256 MiB deploy jobs pi1 and pi2 run 4 (CPU-bound).
    expect(reference.nodes.map((n) => nodeConcurrency(reference, n))).toEqual([3, 3, 1, 1]);
    const light = { ...reference, pools: reference.pools.map((p) => (p.name === "deploy" ? { ...p, jobMemoryMiB: 256 } : p)) };
    expect(light.nodes.map((n) => nodeConcurrency(light, n))).toEqual([4, 4, 1, 1]);
  });
});

describe("pools and tags", () => {
  it("selects nodes by explicit list or by selector", () => {
    const [docker, deploy] = reference.pools;
    expect(poolNodes(reference, docker as RunnerPool).map((n) => n.name)).toEqual(["pi1", "pi2", "pi3", "pi4"]);
    expect(poolNodes(reference, deploy as RunnerPool).map((n) => n.name)).toEqual(["pi1", "pi2"]);
  });
  it("lists the tags each node serves and the nodes serving each tag", () => {
    expect(tagsByNode(reference).get("pi1")).toEqual(["arm64", "deploy", "docker", "pi", "pifleet"]);
    expect(tagsByNode(reference).get("pi4")).toEqual(["arm64", "docker", "pi"]);
    expect(nodesByTag(reference).get("deploy")).toEqual(["pi1", "pi2"]);
  });
});

describe("fleet.schema.json", () => {
  it("matches the zod model (run `npm run schema -w fleet` after changing schema.ts)", () => {
    const committed = readFileSync(new URL("../fleet.schema.json", import.meta.url), "utf8");
    expect(committed).toBe(fleetJsonSchemaText());
  });
});

describe("where the cluster's pieces run", () => {
  const topology = resolveTopology(reference);
  const names = (nodes: readonly FleetNode[]) => nodes.map((n) => n.name);
  it("names the first swarm manager as primary, and the managers, workers and app nodes in fleet order", () => {
    expect(topology.primaryManager.name).toBe("pi1");
    expect(names(topology.managers)).toEqual(["pi1", "pi2", "pi3"]);
    expect(names(topology.workers)).toEqual(["pi4"]);
    expect(names(topology.appNodes)).toEqual(["pi1", "pi2", "pi3", "pi4"]);
    expect(topology.redisNode?.name).toBe("pi1");
  });
  it("defaults the registry and load balancer to the first swarm manager", () => {
    expect(topology.registry).toMatchObject({ node: { name: "pi1" }, port: 5000, host: "192.168.1.11:5000" });
    expect(topology.loadBalancer).toMatchObject({ node: { name: "pi1" }, port: 80 });
  });
  it("places the registry and load balancer where the app section says, brackets an IPv6 registry host", () => {
    const fleet = {
      ...reference,
      nodes: reference.nodes.map((n) => (n.name === "pi2" ? { ...n, address: "fd00::12" } : n)),
      app: {
        ...(reference.app as NonNullable<typeof reference.app>),
        registry: { node: "pi2", port: 5050 },
        loadBalancer: { node: "pi3", port: 8081 },
      },
    };
    const t = resolveTopology(fleet);
    expect(t.registry).toMatchObject({ node: { name: "pi2" }, port: 5050, host: "[fd00::12]:5050" });
    expect(t.loadBalancer).toMatchObject({ node: { name: "pi3" }, port: 8081 });
  });
  it("has no load balancer or Redis node without an app section, and carries the runner scope with its id", () => {
    const { app: _app, ...withoutApp } = reference;
    const t = resolveTopology({ ...withoutApp, gitlab: { ...reference.gitlab, runnerScope: { type: "group", id: 7 } } });
    expect(t.loadBalancer).toBeUndefined();
    expect(t.redisNode).toBeUndefined();
    expect(t.runnerScope).toEqual({ type: "group", id: 7 });
  });
  it("refuses a fleet that skipped validation", () => {
    const managerless = { ...reference, nodes: reference.nodes.filter((n) => !n.roles.includes("swarm-manager")) };
    expect(() => resolveTopology(managerless)).toThrow(
      /no swarm-manager node: resolve only fleets that parseFleet or loadFleetFile validated/,
    );
  });
  it("labels each Swarm node with its fleet labels, arch and roles", () => {
    expect(swarmLabels(reference.nodes[3] as FleetNode, topology)).toEqual({
      rack: "b",
      "pifleet.arch": "arm64",
      "pifleet.app": "true",
      "pifleet.runner": "true",
    });
  });
});
