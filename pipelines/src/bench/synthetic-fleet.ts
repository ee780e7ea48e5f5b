import type { Fleet, FleetNode } from "@pifleet/fleet";

/**
 * A fleet shaped like examples/fleet.yaml with `size` Pis: three swarm
 * managers, the rest workers, every node a runner and app node. Addresses are
 * in 198.18.0.0/15 and are only written into YAML, never contacted.
 */
export function syntheticFleet(base: Fleet, size: number): Fleet {
  const nodes: FleetNode[] = Array.from({ length: size }, (_, i) => ({
    name: `pi${i + 1}`,
    address: `198.18.${100 + Math.floor(i / 250)}.${(i % 250) + 1}`,
    arch: "arm64",
    memoryMiB: 2048,
    cpus: 4,
    roles: [i < 3 ? "swarm-manager" : "swarm-worker", "runner", "app", ...(i === 0 ? (["redis"] as const) : [])],
    labels: { rack: String.fromCharCode(97 + (i % 4)) },
  }));
  return {
    ...base,
    nodes,
    pools: base.pools.map((p) => (p.nodes ? { ...p, nodes: ["pi1", "pi2"] } : p)),
    app: base.app ? { ...base.app, redis: { ...base.app.redis, node: "pi1" } } : undefined,
  };
}
