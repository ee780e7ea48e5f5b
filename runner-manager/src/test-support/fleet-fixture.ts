import { type Fleet, parseFleet } from "@pifleet/fleet";

/** The fixture's pools, for tests that change one of them. */
export const TEST_POOLS = `
  - { name: docker, tags: [docker, arm64], jobMemoryMiB: 512, select: { roles: [runner] } }
  - { name: deploy, executor: shell, tags: [deploy], jobMemoryMiB: 256, protected: true, nodes: [pi1, pi2] }`;

/** A small fleet for unit tests: three runner nodes, a docker pool on all, a deploy pool on two. */
export function testFleet(overrides: { nodes?: string; pools?: string; cluster?: string } = {}): Fleet {
  const nodes =
    overrides.nodes ??
    `
  - { name: pi1, address: 198.18.0.11, memoryMiB: 2048, cpus: 4, roles: [swarm-manager, runner] }
  - { name: pi2, address: 198.18.0.12, memoryMiB: 2048, cpus: 4, roles: [runner] }
  - { name: pi3, address: 198.18.0.13, memoryMiB: 4096, cpus: 4, roles: [runner] }`;
  const pools = overrides.pools ?? TEST_POOLS;
  return parseFleet(
    `cluster: ${overrides.cluster ?? "testfleet"}
gitlab: { url: "http://127.0.0.1:1", runnerScope: { type: project, id: 1 } }
ssh: { privateKey: /dev/null, knownHosts: /dev/null }
nodes:${nodes}
pools:${pools}
`,
    "test-fleet.yaml",
  );
}
