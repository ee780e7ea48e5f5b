import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SimStatus, simDown, simUp } from "./index.js";
import { sshRun } from "./test-support/ssh.js";

// Proves nesting: docker.io installed from Debian (through the apt proxy) runs a container in a
// node, and two nodes form a Swarm — with every nested network inside 198.18.0.0/15.
let dir = "";
let sim: SimStatus;
const addr = (i: number) => sim.nodes[i]?.address ?? "";

const DAEMON_JSON = JSON.stringify({ bip: "198.18.100.1/24", "default-address-pools": [{ base: "198.18.128.0/18", size: 24 }] });
const INSTALL_DOCKER = [
  "set -e",
  "sudo install -d /etc/docker",
  `echo '${DAEMON_JSON}' | sudo tee /etc/docker/daemon.json >/dev/null`,
  "sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends docker.io >/dev/null",
  "sudo docker info --format '{{.Driver}}'",
].join("\n");
// No registry is reachable: build a one-binary image from the node's own dash and its libraries.
const MINI_IMAGE = `sudo sh -c 'tar -chf - -C / usr/bin/dash $(ldd /usr/bin/dash | grep -o "/[^ ]*" | sed "s|^/||") | docker import - pifleet/mini >/dev/null'`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "pifleet-sim-nested-"));
  sim = await simUp({ dir, nodes: 2, gitlab: false, progress: (m) => process.stderr.write(`sim: ${m}\n`) });
});

afterAll(async () => {
  if (dir) await simDown(dir);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("nested Docker in sim nodes", () => {
  it("installs docker.io in two nodes; the engine runs on overlay2 and runs a container", async () => {
    expect(await Promise.all([sshRun(sim, addr(0), INSTALL_DOCKER), sshRun(sim, addr(1), INSTALL_DOCKER)])).toEqual([
      "overlay2",
      "overlay2",
    ]);
    await sshRun(sim, addr(0), MINI_IMAGE);
    expect(await sshRun(sim, addr(0), "sudo docker run --rm pifleet/mini /usr/bin/dash -c 'echo nested-ok as pid $$'")).toMatch(
      "nested-ok as pid 1",
    );
  });

  it("forms a two-node Swarm", async () => {
    await sshRun(
      sim,
      addr(0),
      `sudo docker swarm init --advertise-addr ${addr(0)} --default-addr-pool 198.18.192.0/18 --default-addr-pool-mask-length 24 >/dev/null`,
    );
    const token = await sshRun(sim, addr(0), "sudo docker swarm join-token -q worker");
    await sshRun(sim, addr(1), `sudo docker swarm join --token ${token} ${addr(0)}:2377 >/dev/null`);
    const nodes = await sshRun(sim, addr(0), "sudo docker node ls --format '{{.Hostname}} {{.Status}}' | sort");
    expect(nodes.split("\n")).toEqual(["pi1 Ready", "pi2 Ready"]);
  });

  it("runs containers of both nodes on an attachable overlay network", async () => {
    await sshRun(sim, addr(0), "sudo docker network create --driver overlay --attachable pf-ov >/dev/null");
    await sshRun(sim, addr(1), MINI_IMAGE);
    for (const i of [0, 1]) {
      expect(await sshRun(sim, addr(i), "sudo docker run --rm --network pf-ov pifleet/mini /usr/bin/dash -c 'echo on-overlay'")).toBe(
        "on-overlay",
      );
    }
  });

  it("keeps every nested network (bridge, docker_gwbridge, ingress, overlay) inside 198.18.0.0/15", async () => {
    for (const i of [0, 1]) {
      const lines = (
        await sshRun(
          sim,
          addr(i),
          "sudo docker network inspect $(sudo docker network ls -q) --format '{{.Name}} {{range .IPAM.Config}}{{.Subnet}} {{end}}'",
        )
      ).split("\n");
      const subnets = new Map(lines.map((l) => [l.split(" ")[0], l.split(" ").slice(1).filter(Boolean)]));
      // Workers drop swarm-scoped networks once no container uses them; the manager keeps them.
      const expected = i === 0 ? ["bridge", "docker_gwbridge", "ingress", "pf-ov"] : ["bridge", "docker_gwbridge"];
      expect([...subnets.keys()]).toEqual(expect.arrayContaining(expected));
      for (const s of [...subnets.values()].flat()) expect(s).toMatch(/^198\.1[89]\.\d+\.\d+\/(1[5-9]|2\d|3[0-2])$/);
    }
  });
});
