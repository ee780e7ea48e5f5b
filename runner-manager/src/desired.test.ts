import { resolveTopology } from "@pifleet/fleet";
import { describe, expect, it } from "vitest";
import { desiredFromFleet, runnerScope } from "./desired.js";
import { testFleet } from "./test-support/fleet-fixture.js";

describe("desiredFromFleet", () => {
  const desired = desiredFromFleet(testFleet());

  it("places one runner per node and pool, keyed node/pool", () => {
    expect(desired.nodes.map((n) => [n.name, n.runners.map((r) => r.key)])).toEqual([
      ["pi1", ["pi1/docker", "pi1/deploy"]],
      ["pi2", ["pi2/docker", "pi2/deploy"]],
      ["pi3", ["pi3/docker"]],
    ]);
  });

  it("sizes limit and concurrent per node from the memory its budget leaves, capped at the CPU count", () => {
    const pi1 = desired.nodes.find((n) => n.name === "pi1");
    const pi3 = desired.nodes.find((n) => n.name === "pi3");
    // 2048 - (OS 384, GPU 16, Docker 192, Swarm manager 32, gitlab-runner 64, registry 64) = 1296 left:
    // 2 docker jobs of 512, 5 deploy jobs of 256 capped at 4 CPUs; 2 × 512 + 256 fits, a fourth job would not.
    expect(pi1?.runners.map((r) => r.block.limit)).toEqual([2, 4]);
    expect(pi1?.settings.concurrent).toBe(3);
    // 4096 - (OS, GPU, Docker, gitlab-runner) = 3440 → 6 jobs, capped at 4 CPUs.
    expect(pi3?.runners[0]?.block.limit).toBe(4);
    expect(pi1?.runners.map((r) => r.block.requestConcurrency)).toEqual([2, 2]);
  });

  it("binds metrics to the node's address and carries the ownership marker and protection", () => {
    const pi1 = desired.nodes[0];
    expect(pi1?.settings.listenAddress).toBe("198.18.0.11:9252");
    const deploy = pi1?.runners[1];
    expect(deploy?.description).toBe("pifleet testfleet/pi1/deploy [deploy; protected]");
    expect(deploy?.block.name).toBe("pifleet testfleet/pi1/deploy");
    expect(deploy?.maintenanceNote.split("\n")[0]).toBe("managed-by=pifleet cluster=testfleet node=pi1 pool=deploy");
    expect(deploy?.accessLevel).toBe("ref_protected");
    expect(deploy?.block).toMatchObject({ executor: "shell", shell: "bash" });
    expect(pi1?.runners[0]?.block.docker).toEqual({
      image: "debian:bookworm-slim",
      memory: "512m",
      memorySwap: "512m",
      volumes: ["/cache"],
    });
  });

  it("mounts the node's docker socket into the jobs of a dockerSocket pool only", () => {
    const pools = `
  - { name: docker, tags: [docker], select: { roles: [runner] } }
  - { name: deploy, dockerSocket: true, image: "reg:5000/pifleet/pifleet:main", tags: [deploy], protected: true, nodes: [pi1] }`;
    const [docker, deploy] = desiredFromFleet(testFleet({ pools })).nodes[0]?.runners ?? [];
    expect(docker?.block.docker?.volumes).toEqual(["/cache"]);
    expect(deploy?.block).toMatchObject({ executor: "docker" });
    expect(deploy?.block.docker).toMatchObject({
      image: "reg:5000/pifleet/pifleet:main",
      volumes: ["/var/run/docker.sock:/var/run/docker.sock", "/cache"],
    });
  });

  it("names the fleet's resolved runner scope as GitLab's API does", () => {
    expect(runnerScope(resolveTopology(testFleet()).runnerScope)).toEqual({ type: "project_type", id: 1 });
    expect(runnerScope({ type: "instance" })).toEqual({ type: "instance_type" });
  });
});
