import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { swarmLabels } from "./cluster.js";
import { nodesByTag, poolNodes, tagsByNode } from "./derive.js";
import { fleetJsonSchemaText } from "./json-schema.js";
import { parseFleet } from "./load.js";
import type { FleetNode, RunnerPool } from "./schema.js";
import { resolveTopology } from "./topology.js";

const reference = parseFleet(readFileSync(new URL("../../examples/fleet.yaml", import.meta.url), "utf8"));
describe("pools and tags", () => {
  it("selects nodes by explicit list or by selector", () => {
    const [docker, deploy] = reference.pools;
    expect(poolNodes(reference, docker as RunnerPool).map((n) => n.name)).toEqual(["pi2", "pi3", "pi4"]);
    expect(poolNodes(reference, deploy as RunnerPool).map((n) => n.name)).toEqual(["pi2", "pi3"]);
  });
  it("lists the tags each node serves and the nodes serving each tag", () => {
    expect(tagsByNode(reference).get("pi1")).toEqual([]);
    expect(tagsByNode(reference).get("pi2")).toEqual(["arm64", "deploy", "docker", "pi", "pifleet"]);
    expect(tagsByNode(reference).get("pi4")).toEqual(["arm64", "docker", "pi"]);
    expect(nodesByTag(reference).get("deploy")).toEqual(["pi2", "pi3"]);
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
  it("defaults the registry to the first swarm manager; runs the load balancer on the loadbalancer nodes behind the VIP", () => {
    expect(topology.registry).toMatchObject({ node: { name: "pi1" }, port: 5000, host: "192.168.1.11:5000" });
    expect(topology.loadBalancer).toMatchObject({
      port: 80,
      vip: { address: "192.168.1.250", prefixLength: 24 },
      address: "192.168.1.250",
      url: "http://192.168.1.250",
    });
    expect(names(topology.loadBalancer?.nodes ?? [])).toEqual(["pi1", "pi4"]);
  });
  it("places the registry and the one load balancer where the app section says, brackets an IPv6 registry host", () => {
    const fleet = {
      ...reference,
      nodes: reference.nodes.map((n) => ({
        ...n,
        address: n.name === "pi2" ? "fd00::12" : n.address,
        roles: n.roles.filter((r) => r !== "loadbalancer"),
      })),
      app: {
        ...(reference.app as NonNullable<typeof reference.app>),
        registry: { node: "pi2", port: 5050 },
        loadBalancer: { node: "pi3", port: 8081 },
      },
    };
    const t = resolveTopology(fleet);
    expect(t.registry).toMatchObject({ node: { name: "pi2" }, port: 5050, host: "[fd00::12]:5050" });
    expect(t.loadBalancer).toMatchObject({ nodes: [{ name: "pi3" }], port: 8081, url: "http://192.168.1.13:8081" });
  });
  it("points the URL at the one loadbalancer-role node when there is no VIP, not at a manager", () => {
    const fleet = {
      ...reference,
      nodes: reference.nodes.map((n) => ({ ...n, roles: n.roles.filter((r) => r !== "loadbalancer" || n.name === "pi4") })),
      app: { ...(reference.app as NonNullable<typeof reference.app>), loadBalancer: { port: 80 } },
    };
    const t = resolveTopology(fleet);
    const pi4 = reference.nodes.find((n) => n.name === "pi4");
    expect(t.loadBalancer).toMatchObject({ nodes: [{ name: "pi4" }], address: pi4?.address, url: `http://${pi4?.address}` });
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
      "pifleet.lb": "true",
    });
  });
});
