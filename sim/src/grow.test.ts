import { describe, expect, it } from "vitest";
import { grownLayout } from "./grow.js";
import { planLayout } from "./layout.js";

const options = { dir: "/tmp/pifleet-grow-test", arch: "amd64" as const, memoryMiB: 2048, cpus: 2 };

describe("grownLayout", () => {
  it("keeps the network and the nodes already there, and adds the next ones after them", () => {
    const before = planLayout({ ...options, nodes: 4 }, "198.19.250.0/24");
    const { layout, added } = grownLayout(before, 5);
    expect(layout.network).toEqual(before.network);
    expect(layout.nodes.slice(0, 4)).toEqual(before.nodes);
    expect(added.map((n) => [n.name, n.address, n.roles])).toEqual([["pi5", "198.19.250.15", ["swarm-worker", "runner", "app"]]]);
    expect(layout.nodes).toHaveLength(5);
    expect(layout.instance).toBe(before.instance);
    expect(layout.files).toEqual(before.files);
  });

  it("adds nothing when the count is unchanged", () => {
    const before = planLayout({ ...options, nodes: 2 }, "198.19.250.0/24");
    expect(grownLayout(before, 2).added).toEqual([]);
  });
});
