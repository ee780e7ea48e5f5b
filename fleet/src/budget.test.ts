import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { memoryBudget, type NodeBudget } from "./budget.js";
import { DiagnosticsError } from "./errors.js";
import { parseFleet } from "./load.js";
import { DAEMON_MEMORY_MIB, STACK_MEMORY_MIB } from "./memory-figures.js";
import type { Fleet } from "./schema.js";

const reference = parseFleet(readFileSync(new URL("../../examples/fleet.yaml", import.meta.url), "utf8"));

/** A small fleet file: pi1 runs every service, the nodes and pools are given as YAML lines. */
function fleetText(nodes: string, pools: string, extra = ""): string {
  return [
    "cluster: budget",
    "gitlab: {url: https://gitlab.example.com, runnerScope: {type: instance}}",
    "ssh: {privateKey: ./key, knownHosts: ./known_hosts}",
    extra,
    "nodes:",
    nodes,
    "pools:",
    pools,
    "app: {image: pifleet/counter, redis: {node: pi1}}",
    "",
  ].join("\n");
}

function problemsOf(text: string): string[] {
  try {
    parseFleet(text, "fleet.yaml");
  } catch (err) {
    expect(err).toBeInstanceOf(DiagnosticsError);
    return (err as DiagnosticsError).diagnostics.map((d) => `${d.file}:${d.line}:${d.col}: ${d.message}`);
  }
  throw new Error("the fleet parsed without errors");
}

const byNode = (budgets: NodeBudget[], name: string) => budgets.find((b) => b.node === name) as NodeBudget;
const items = (b: NodeBudget) => b.fixed.map((l) => [l.item, l.mib]);

describe("the memory budget of the reference fleet (4 × Pi 4 2 GB)", () => {
  const budgets = memoryBudget(reference);

  it("fits: on every Pi, what runs there plus its job slots stays within its memory", () => {
    for (const b of budgets) {
      expect(b.totalMiB, b.node).toBeLessThanOrEqual(b.memoryMiB);
      expect(b.freeMiB, b.node).toBe(b.memoryMiB - b.totalMiB);
    }
    expect(budgets.map((b) => [b.node, b.totalMiB, b.freeMiB])).toEqual([
      ["pi1", 1088, 960],
      ["pi2", 2032, 16],
      ["pi3", 2032, 16],
      ["pi4", 1952, 96],
    ]);
  });

  it("puts each service on the node the topology places it on, with the stack's limits", () => {
    const d = DAEMON_MEMORY_MIB;
    expect(items(byNode(budgets, "pi1"))).toEqual([
      ["OS", 384],
      ["GPU", 16],
      ["dockerd + containerd", d.dockerEngine],
      ["Swarm manager", d.swarmManager],
      ["registry", d.registry],
      ["redis-server", d.redisServer],
      ["redis-sentinel", d.redisSentinel],
      ["load balancer", STACK_MEMORY_MIB.loadBalancer],
      ["keepalived", d.keepalived],
      ["app", STACK_MEMORY_MIB.app],
    ]);
    // A worker: no Swarm manager, no Redis, no registry; a runner and the second load balancer.
    expect(items(byNode(budgets, "pi4"))).toEqual([
      ["OS", 384],
      ["GPU", 16],
      ["dockerd + containerd", d.dockerEngine],
      ["gitlab-runner", d.gitlabRunner],
      ["load balancer", STACK_MEMORY_MIB.loadBalancer],
      ["keepalived", d.keepalived],
      ["app", STACK_MEMORY_MIB.app],
    ]);
    // A Redis replica beside a runner: the fleet's tightest node, 16 MiB free with its one 1 GiB job.
    expect(items(byNode(budgets, "pi2"))).toEqual(
      expect.arrayContaining([
        ["redis-server", d.redisServer],
        ["redis-sentinel", d.redisSentinel],
      ]),
    );
  });

  it("derives job capacity from what is left: pi2 has room for one 1 GiB job, not one more 512 MiB job beside it", () => {
    const pi2 = byNode(budgets, "pi2");
    expect(pi2.leftMiB).toBe(1040);
    expect(pi2.pools.map((p) => [p.pool, p.limit])).toEqual([
      ["arm64-docker", 1],
      ["deploy", 2],
    ]);
    expect(pi2.jobSlots).toBe(1);
    expect(pi2.jobs).toEqual([{ pool: "arm64-docker", jobMemoryMiB: 1024, jobs: 1, mib: 1024 }]);
    expect(budgets.map((b) => b.jobSlots)).toEqual([0, 1, 1, 1]);
  });
});

describe("budget lines", () => {
  it("moves the registry and load balancer lines with app.registry and app.loadBalancer", () => {
    const app = reference.app as NonNullable<Fleet["app"]>;
    const moved = { ...reference, app: { ...app, registry: { node: "pi4", port: 5000 }, loadBalancer: { node: "pi4", port: 80 } } };
    const budgets = memoryBudget(moved);
    expect(items(byNode(budgets, "pi1")).map(([item]) => item)).not.toContain("registry");
    expect(items(byNode(budgets, "pi4")).map(([item]) => item)).toEqual(expect.arrayContaining(["registry", "load balancer"]));
  });

  it("counts keepalived on each load balancer node only when the fleet has a VIP for it to keep", () => {
    const withKeepalived = (budgets: NodeBudget[]) =>
      budgets.filter((b) => b.fixed.some((l) => l.item === "keepalived")).map((b) => b.node);
    expect(withKeepalived(memoryBudget(reference))).toEqual(["pi1", "pi4"]);
    // One load balancer (the first manager's), no VIP: no keepalived.
    const single = parseFleet(fleetText("  - {name: pi1, address: 198.18.0.11, roles: [swarm-manager, app, redis]}", "  []"));
    expect(items(byNode(memoryBudget(single), "pi1")).map(([item]) => item)).toContain("load balancer");
    expect(withKeepalived(memoryBudget(single))).toEqual([]);
  });

  it("has no GPU line on a simulated or amd64 node, and no app lines without an app section", () => {
    const sim = memoryBudget({ ...reference, simulated: true });
    expect(items(byNode(sim, "pi1")).map(([item]) => item)).not.toContain("GPU");
    const { app: _app, ...noApp } = reference;
    expect(items(byNode(memoryBudget(noApp), "pi1")).map(([item]) => item)).toEqual([
      "OS",
      "GPU",
      "dockerd + containerd",
      "Swarm manager",
      "registry",
    ]);
  });

  it("gives more job slots to a node with more memory, never more than its CPUs", () => {
    const big = { ...reference, nodes: reference.nodes.map((n) => (n.name === "pi4" ? { ...n, memoryMiB: 8192 } : n)) };
    const pi4 = byNode(memoryBudget(big), "pi4");
    expect(pi4.leftMiB).toBe(8192 - 928);
    expect(pi4).toMatchObject({ jobSlots: 4, jobsMiB: 4096 });
    expect(pi4.pools[0]).toMatchObject({ limit: 4, limitedBy: "cpus" });
  });
});

describe("over-commitment is an error at the node or pool to change", () => {
  const nodes = [
    "  - {name: pi1, address: 198.18.0.11, memoryMiB: 2048, roles: [swarm-manager, runner, app, redis]}",
    "  - {name: pi2, address: 198.18.0.12, memoryMiB: 1536, roles: [swarm-worker, runner, app]}",
  ].join("\n");

  it("accepts a fleet whose nodes fit", () => {
    const fleet = parseFleet(fleetText(nodes, "  - {name: small, jobMemoryMiB: 256}"));
    expect(memoryBudget(fleet).map((b) => [b.leftMiB, b.jobSlots])).toEqual([
      [912, 3],
      [688, 2],
    ]);
  });

  it("reports a node whose services alone exceed its memory, at its memoryMiB, with the sum and what to do", () => {
    const tiny = nodes.replace("memoryMiB: 2048", "memoryMiB: 1024");
    expect(problemsOf(fleetText(tiny, "  - {name: small, jobMemoryMiB: 256}"))).toEqual([
      'fleet.yaml:6:50: node "pi1" is over-committed before any job: OS 384 + GPU 16 + dockerd + containerd 192 + ' +
        "Swarm manager 32 + gitlab-runner 64 + registry 64 + redis-server 112 + redis-sentinel 16 + load balancer 64 + " +
        "app 192 = 1136 MiB of its 1024 MiB (112 MiB over); move the registry or the load balancer to another node " +
        "(app.registry.node, app.loadBalancer.node), take a role off it (redis, app, runner, ...), or lower runners.osReserveMiB",
    ]);
  });

  it("reports a pool whose job does not fit in what is left on one of its nodes, at its jobMemoryMiB", () => {
    expect(problemsOf(fleetText(nodes, "  - name: containers\n    jobMemoryMiB: 1024"))).toEqual([
      'fleet.yaml:10:19: runner pool "containers" gives each job 1024 MiB, more than is left on pi1 (2048 MiB, ' +
        "OS 384 + GPU 16 + dockerd + containerd 192 + Swarm manager 32 + gitlab-runner 64 + registry 64 + redis-server 112 + " +
        "redis-sentinel 16 + load balancer 64 + app 192 = 1136 MiB: 912 MiB left, 112 MiB short); pi2 (1536 MiB, OS 384 + GPU 16 + " +
        "dockerd + containerd 192 + gitlab-runner 64 + app 192 = 848 MiB: 688 MiB left, 336 MiB short): its runner " +
        "there could not take one job; take pi1, pi2 out of the pool (nodes or select), lower jobMemoryMiB, or move " +
        "services off those nodes",
    ]);
  });

  it("counts runners.osReserveMiB: a smaller OS reserve leaves room for the job", () => {
    const pools = "  - {name: containers, jobMemoryMiB: 1024, nodes: [pi1]}";
    expect(problemsOf(fleetText(nodes, pools))[0]).toContain("912 MiB left, 112 MiB short");
    const fleet = parseFleet(fleetText(nodes, pools, "runners: {osReserveMiB: 256}"));
    expect(byNode(memoryBudget(fleet), "pi1")).toMatchObject({ leftMiB: 1040, jobSlots: 1, jobsMiB: 1024, freeMiB: 16 });
  });
});
