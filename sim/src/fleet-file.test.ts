import { parseFleet, poolNodes, resolveTopology } from "@pifleet/fleet";
import { describe, expect, it } from "vitest";
import { renderFleetYaml, renderKnownHosts } from "./fleet-file.js";
import { planLayout } from "./layout.js";

const layout = planLayout({ dir: "/tmp/x/.pifleet/sim", nodes: 3, arch: "arm64", memoryMiB: 2048, cpus: 4 }, "198.19.255.0/24");
const gitlab = { url: "http://198.19.255.1:40123", projectId: 7 };

describe("renderFleetYaml", () => {
  it("writes a fleet file the fleet model accepts, for exactly the sim's nodes", () => {
    const fleet = parseFleet(renderFleetYaml(layout, gitlab), "fleet.yaml");
    expect(fleet.cluster).toBe(layout.instance);
    expect(fleet.gitlab).toEqual({ url: gitlab.url, runnerScope: { type: "project", id: 7 }, tokenEnv: "GITLAB_TOKEN" });
    expect(fleet.ssh).toEqual({ user: "pi", privateKey: "./id_ed25519", knownHosts: "./known_hosts", port: 22 });
    expect(fleet.nodes.map((n) => [n.name, n.address, n.arch, n.memoryMiB, n.cpus])).toEqual([
      ["pi1", "198.19.255.11", "arm64", 2048, 4],
      ["pi2", "198.19.255.12", "arm64", 2048, 4],
      ["pi3", "198.19.255.13", "arm64", 2048, 4],
    ]);
    expect(resolveTopology(fleet).primaryManager.name).toBe("pi1");
    expect(fleet.app?.redis.node).toBe("pi1");
  });
  it("marks the fleet as simulated, the one signal the Ansible roles read", () => {
    expect(parseFleet(renderFleetYaml(layout, gitlab), "fleet.yaml").simulated).toBe(true);
  });
  it("keeps nested engines and Swarm inside 198.18.0.0/15", () => {
    const fleet = parseFleet(renderFleetYaml(layout, gitlab), "fleet.yaml");
    expect(fleet.docker.bip).toBe("198.18.100.1/24");
    expect(fleet.docker.addressPools).toEqual([{ base: "198.18.128.0/18", size: 24 }]);
    expect(fleet.docker.swarmAddressPool).toEqual({ base: "198.18.192.0/18", size: 24 });
  });
  it("has the example's two pools: 1 GiB docker jobs on every node, the protected deploy pool with the socket on the first two", () => {
    const fleet = parseFleet(renderFleetYaml(layout, gitlab), "fleet.yaml");
    expect(
      fleet.pools.map((p) => [
        p.name,
        p.executor,
        p.tags,
        p.jobMemoryMiB,
        p.protected,
        p.dockerSocket,
        poolNodes(fleet, p).map((n) => n.name),
      ]),
    ).toEqual([
      ["arm64-docker", "docker", ["arm64", "docker", "pi"], 1024, false, false, ["pi1", "pi2", "pi3"]],
      ["deploy", "docker", ["deploy", "pifleet", "arm64"], 512, true, true, ["pi1", "pi2"]],
    ]);
  });
  it("puts a one-node sim's deploy pool on its only node", () => {
    const one = planLayout({ dir: "/tmp/y/.pifleet/sim", nodes: 1, arch: "amd64", memoryMiB: 2048, cpus: 2 }, "198.19.254.0/24");
    const fleet = parseFleet(renderFleetYaml(one, gitlab), "fleet.yaml");
    expect(fleet.pools.map((p) => [p.name, p.tags, poolNodes(fleet, p).map((n) => n.name)])).toEqual([
      ["amd64-docker", ["amd64", "docker", "pi"], ["pi1"]],
      ["deploy", ["deploy", "pifleet", "amd64"], ["pi1"]],
    ]);
  });
  it("never contains the token", () => {
    expect(renderFleetYaml(layout, gitlab)).not.toMatch(/glpat|token:/);
  });
});

describe("renderKnownHosts", () => {
  it("pins one key per address and drops the key comment", () => {
    const text = renderKnownHosts([
      { address: "198.19.255.11", publicKey: "ssh-ed25519 AAAAC3Nza1 root@pi1\n" },
      { address: "198.19.255.12", publicKey: "ssh-ed25519 AAAAC3Nza2 root@pi2" },
    ]);
    expect(text).toBe("198.19.255.11 ssh-ed25519 AAAAC3Nza1\n198.19.255.12 ssh-ed25519 AAAAC3Nza2\n");
  });
});
