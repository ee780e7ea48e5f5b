import { type Fleet, type FleetInput, FleetSchema } from "@pifleet/fleet";

type NodeInput = FleetInput["nodes"][number];

/** A small valid fleet for unit tests; nodes default to pi1 (manager) + pi2, pi3 (workers). */
export function threeNodeFleet(overrides: Partial<FleetInput> = {}, nodes?: NodeInput[]): Fleet {
  return FleetSchema.parse({
    cluster: "testcluster",
    gitlab: { url: "https://gitlab.example.com", runnerScope: { type: "project", id: 1 } },
    ssh: { user: "pi", privateKey: "/keys/id_ed25519", knownHosts: "/keys/known_hosts" },
    nodes: nodes ?? [
      { name: "pi1", address: "198.19.255.11", roles: ["swarm-manager", "runner", "app", "redis"], labels: { rack: "a" } },
      { name: "pi2", address: "198.19.255.12", roles: ["swarm-worker", "runner", "app"] },
      { name: "pi3", address: "198.19.255.13", arch: "amd64", roles: ["swarm-worker", "runner"] },
    ],
    ...overrides,
  });
}
