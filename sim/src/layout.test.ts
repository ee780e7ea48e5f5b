import { describe, expect, it } from "vitest";
import { cidrsOverlap, instanceIdFor, parseMemory, pickSubnet, planLayout } from "./layout.js";

const options = { dir: "/work/project/.pifleet/sim", nodes: 4, arch: "amd64" as const, memoryMiB: 2048, cpus: 4 };

describe("instanceIdFor", () => {
  it("is stable for a dir and differs between dirs", () => {
    expect(instanceIdFor("/a/.pifleet/sim")).toBe(instanceIdFor("/a/.pifleet/sim"));
    expect(instanceIdFor("/a/.pifleet/sim")).not.toBe(instanceIdFor("/b/.pifleet/sim"));
    expect(instanceIdFor("/a")).toMatch(/^pfs-[0-9a-f]{8}$/);
  });
});

describe("parseMemory", () => {
  it("reads g, m and bare MiB", () => {
    expect(parseMemory("2g")).toBe(2048);
    expect(parseMemory("1536m")).toBe(1536);
    expect(parseMemory("1.5G")).toBe(1536);
    expect(parseMemory("2048")).toBe(2048);
  });
  it("rejects nonsense and tiny sizes with what to give instead", () => {
    expect(() => parseMemory("lots")).toThrow('invalid --memory "lots"');
    expect(() => parseMemory("100m")).toThrow("--memory 100m is too small: a node needs at least 256m");
  });
});

describe("pickSubnet", () => {
  it("takes the top /24 of 198.19.0.0/16 when nothing is used", () => {
    expect(pickSubnet([])).toBe("198.19.255.0/24");
  });
  it("skips subnets in use, including ones covered by a larger network", () => {
    expect(pickSubnet(["198.19.255.0/24", "198.19.254.0/24"])).toBe("198.19.253.0/24");
    expect(pickSubnet(["198.19.252.0/22"])).toBe("198.19.251.0/24");
  });
  it("ignores IPv6 and unrelated networks", () => {
    expect(pickSubnet(["fd00::/64", "198.18.0.0/24", "198.19.0.0/24"])).toBe("198.19.255.0/24");
  });
  it("fails with a hint when the upper half of the pool is exhausted", () => {
    expect(() => pickSubnet(["198.19.128.0/17"])).toThrow("no free /24 left in 198.19.128.0/17 for a sim network");
  });
});

describe("cidrsOverlap", () => {
  it("compares ranges, not strings", () => {
    expect(cidrsOverlap("198.19.0.0/16", "198.19.200.0/24")).toBe(true);
    expect(cidrsOverlap("198.19.200.0/24", "198.19.201.0/24")).toBe(false);
    expect(cidrsOverlap("198.19.200.7/24", "198.19.200.0/24")).toBe(true);
  });
});

describe("planLayout", () => {
  it("names containers by instance, gives fixed addresses from .11, three managers, two load balancers, the VIP at .250", () => {
    const layout = planLayout(options, "198.19.250.0/24");
    const id = instanceIdFor(options.dir);
    expect(layout.network).toEqual({ name: `${id}-net`, subnet: "198.19.250.0/24", gateway: "198.19.250.1", vip: "198.19.250.250/24" });
    expect(layout.nodes.map((n) => [n.name, n.container, n.address, n.dockerVolume])).toEqual([
      ["pi1", `${id}-pi1`, "198.19.250.11", `${id}-pi1-docker`],
      ["pi2", `${id}-pi2`, "198.19.250.12", `${id}-pi2-docker`],
      ["pi3", `${id}-pi3`, "198.19.250.13", `${id}-pi3-docker`],
      ["pi4", `${id}-pi4`, "198.19.250.14", `${id}-pi4-docker`],
    ]);
    expect(layout.nodes.map((n) => n.roles)).toEqual([
      ["swarm-manager", "runner", "app", "redis", "loadbalancer"],
      ["swarm-manager", "runner", "app", "redis", "loadbalancer"],
      ["swarm-manager", "runner", "app", "redis"],
      ["swarm-worker", "runner", "app"],
    ]);
    expect(layout.files.fleet).toBe("/work/project/.pifleet/sim/fleet.yaml");
    expect(layout.files.gitlabToken).toBe("/work/project/.pifleet/sim/gitlab/gitlab-token");
  });
  it("gives a 2-node sim one Redis node, never two (no sentinel majority would survive either)", () => {
    const layout = planLayout({ ...options, nodes: 2 }, "198.19.250.0/24");
    expect(layout.nodes.map((n) => n.roles.includes("redis"))).toEqual([true, false]);
    expect(planLayout({ ...options, nodes: 1 }, "198.19.250.0/24").nodes[0]?.roles).toContain("redis");
  });
  it("rejects a node count out of range", () => {
    expect(() => planLayout({ ...options, nodes: 0 }, "198.19.250.0/24")).toThrow("--nodes 0 is out of range");
    expect(() => planLayout({ ...options, nodes: 2.5 }, "198.19.250.0/24")).toThrow("--nodes 2.5 is out of range");
  });
});
