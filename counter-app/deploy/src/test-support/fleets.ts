import { type Fleet, parseFleet } from "@pifleet/fleet";

/** A small fleet file as text; `extra` lines are appended under app:. */
export function fleetText(options: { appExtra?: string; redisNodes?: string[]; persistence?: string } = {}): string {
  const redis = new Set(options.redisNodes ?? ["pi1"]);
  const node = (name: string, n: number, roles: string[]) =>
    `  - name: ${name}\n    address: 198.19.7.${10 + n}\n    arch: amd64\n    roles: [${[...roles, ...(redis.has(name) ? ["redis"] : [])].join(", ")}]\n`;
  return `cluster: testcluster
gitlab:
  url: https://gitlab.example.com
  runnerScope: { type: instance }
ssh:
  privateKey: ./id
  knownHosts: ./known_hosts
nodes:
${node("pi1", 1, ["swarm-manager", "app"])}${node("pi2", 2, ["swarm-worker", "app"])}${node("pi3", 3, ["swarm-worker", "app"])}${node("pi4", 4, ["swarm-worker"])}app:
  image: pifleet/counter
  redis:
    node: pi1
    persistence: ${options.persistence ?? "aof"}
${options.appExtra ?? ""}`;
}

export function testFleet(options: Parameters<typeof fleetText>[0] = {}): Fleet {
  return parseFleet(fleetText(options), "test-fleet.yaml");
}
