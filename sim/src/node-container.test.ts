import { describe, expect, it } from "vitest";
import { planLayout } from "./layout.js";
import { aptProxyConf, nodeCreateArgs } from "./node-container.js";

const layout = planLayout({ dir: "/tmp/y", nodes: 2, arch: "amd64", memoryMiB: 2048, cpus: 2 }, "198.19.254.0/24");
const node = layout.nodes[1];
if (!node) throw new Error("layout has no pi2");

/** The value following a flag, for each occurrence. */
const valuesOf = (args: string[], flag: string) => args.flatMap((a, i) => (a === flag ? [args[i + 1]] : []));

describe("nodeCreateArgs", () => {
  const args = nodeCreateArgs(layout, node, "pifleet/sim-node:amd64-abc", "/var/lib/lxcfs");

  it("labels the container with the instance and node, at its fixed address", () => {
    expect(valuesOf(args, "--label")).toEqual([`pifleet.sim=${layout.instance}`, "pifleet.sim.node=pi2"]);
    expect(valuesOf(args, "--ip")).toEqual(["198.19.254.12"]);
    expect(valuesOf(args, "--network")).toEqual([layout.network.name]);
    expect(valuesOf(args, "--hostname")).toEqual(["pi2"]);
    expect(args.at(-1)).toBe("pifleet/sim-node:amd64-abc");
  });
  it("limits memory without swap and gives the nested engine its own volume", () => {
    expect(valuesOf(args, "--memory")).toEqual(["2048m"]);
    expect(valuesOf(args, "--memory-swap")).toEqual(["2048m"]);
    expect(valuesOf(args, "-v")).toContain(`${node.dockerVolume}:/var/lib/docker`);
  });
  it("uses the nested-Docker flags that work here, never --privileged", () => {
    expect(args).not.toContain("--privileged");
    expect(valuesOf(args, "--cap-drop")).toEqual(["SYS_RESOURCE"]);
    expect(valuesOf(args, "--cgroupns")).toEqual(["host"]);
    expect(valuesOf(args, "--stop-signal")).toEqual(["SIGRTMIN+3"]);
  });
  it("starts the node again after a reboot inside it, but not after docker stop", () => {
    expect(valuesOf(args, "--restart")).toEqual(["unless-stopped"]);
  });
  it("bind-mounts lxcfs's /proc views only when lxcfs runs", () => {
    expect(valuesOf(args, "-v")).toContain("/var/lib/lxcfs/proc/meminfo:/proc/meminfo:ro");
    const without = nodeCreateArgs(layout, node, "img", undefined);
    expect(valuesOf(without, "-v").some((v) => v?.includes("lxcfs"))).toBe(false);
  });
});

describe("aptProxyConf", () => {
  it("points apt's http traffic at the proxy", () => {
    expect(aptProxyConf("http://198.18.0.1:3142")).toContain('Acquire::http::Proxy "http://198.18.0.1:3142";');
  });
});
