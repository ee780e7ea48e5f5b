import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { loadFleetFile, resolveTopology, swarmLabels } from "@pifleet/fleet";
import { describe, expect, it } from "vitest";
import { buildInventory, vrrpRouterId } from "./inventory.js";
import { ANSIBLE_DIR } from "./run-dir.js";
import { threeNodeFleet } from "./test-support/fleets.js";

/** What the roles execute (tasks, handlers, templates), where a variable is read; defaults and READMEs only declare. */
function roleSources(): string {
  const roles = join(ANSIBLE_DIR, "roles");
  return readdirSync(roles, { recursive: true, encoding: "utf8" })
    .filter((f) => /\/(tasks|handlers|templates)\//.test(f))
    .map((f) => readFileSync(join(roles, f), "utf8"))
    .join("\n");
}

describe("buildInventory", () => {
  it("maps the fleet's os and docker sections onto the roles' variables", () => {
    const fleet = threeNodeFleet({
      os: { timezone: "Europe/Berlin", poeFanTemps: [40, 50, 60, 70] },
      docker: {
        bip: "198.18.100.1/24",
        addressPools: [{ base: "198.18.128.0/18", size: 24 }],
        swarmAddressPool: { base: "198.18.192.0/18", size: 26 },
        logMaxSize: "5m",
      },
    });
    const vars = buildInventory(fleet).all.vars;
    expect(vars).toMatchObject({
      base_timezone: "Europe/Berlin",
      raspberrypi_poe_fan_temps: [40, 50, 60, 70],
      docker_bip: "198.18.100.1/24",
      docker_address_pools: [{ base: "198.18.128.0/18", size: 24 }],
      docker_log_max_size: "5m",
      docker_log_max_files: 3,
      docker_users: ["pi"],
      swarm_primary_manager: "pi1",
      swarm_default_addr_pool: ["198.18.192.0/18"],
      swarm_subnet_size: 26,
      swarm_members: ["pi1", "pi2", "pi3"],
      ansible_ssh_private_key_file: "/keys/id_ed25519",
    });
    expect(vars.base_hosts_entries).toEqual([
      { name: "pi1", address: "198.19.255.11" },
      { name: "pi2", address: "198.19.255.12" },
      { name: "pi3", address: "198.19.255.13" },
    ]);
  });

  it("puts the registry on the first manager, port 5000, and lists it as insecure on every node", () => {
    const inv = buildInventory(threeNodeFleet());
    expect(inv.all.children.registry).toEqual({ hosts: { pi1: null } });
    expect(inv.all.vars.docker_insecure_registries).toEqual(["198.19.255.11:5000"]);
    expect(inv.all.vars.registry_port).toBe(5000);
  });

  it("honours app.registry and gives each host its swarm role and labels", () => {
    const fleet = threeNodeFleet({ app: { image: "pifleet/counter", redis: { node: "pi1" }, registry: { node: "pi2", port: 5050 } } });
    const inv = buildInventory(fleet);
    expect(resolveTopology(fleet).registry).toMatchObject({ node: { name: "pi2" }, port: 5050, host: "198.19.255.12:5050" });
    expect(inv.all.children.registry).toEqual({ hosts: { pi2: null } });
    expect(inv.all.hosts.pi1).toMatchObject({ swarm_role: "manager", swarm_advertise_addr: "198.19.255.11" });
    expect(inv.all.hosts.pi1?.swarm_labels).toEqual({
      rack: "a",
      "pifleet.arch": "arm64",
      "pifleet.app": "true",
      "pifleet.redis": "true",
      "pifleet.runner": "true",
      "pifleet.lb": "true",
    });
    expect(inv.all.hosts.pi2?.swarm_labels).toEqual({
      "pifleet.arch": "arm64",
      "pifleet.app": "true",
      "pifleet.runner": "true",
      "pifleet.registry": "true",
    });
    expect(inv.all.hosts.pi3).toMatchObject({ swarm_role: "worker", swarm_labels: { "pifleet.arch": "amd64", "pifleet.runner": "true" } });
  });

  it("leaves nodes without a swarm role out of the Swarm and skips the advertise address for DNS names", () => {
    const fleet = threeNodeFleet({}, [
      { name: "pi1", address: "198.19.255.11", roles: ["swarm-manager"] },
      { name: "ci1", address: "ci1.example.net", roles: ["runner"] },
    ]);
    const inv = buildInventory(fleet);
    expect(inv.all.hosts.ci1?.swarm_role).toBe("none");
    expect(inv.all.hosts.ci1?.swarm_advertise_addr).toBeUndefined();
    expect(inv.all.vars.swarm_members).toEqual(["pi1"]);
    expect(swarmLabels(fleet.nodes[1] as (typeof fleet.nodes)[number], resolveTopology(fleet))).toEqual({
      "pifleet.arch": "arm64",
      "pifleet.runner": "true",
    });
  });

  it("builds the reference fleet's inventory, with static networks as host vars", async () => {
    const { fleet } = await loadFleetFile(new URL("../../examples/fleet.yaml", import.meta.url).pathname);
    const inv = buildInventory(fleet);
    expect(Object.keys(inv.all.hosts)).toEqual(["pi1", "pi2", "pi3", "pi4"]);
    expect(inv.all.hosts.pi3).toMatchObject({ ansible_host: "192.168.1.13", swarm_labels: { rack: "b", "pifleet.arch": "arm64" } });
    expect(inv.all.children.swarm_managers?.hosts).toEqual({ pi1: null, pi2: null, pi3: null });
    expect(inv.all.children.swarm_workers?.hosts).toEqual({ pi4: null });
    expect(inv.all.vars).toMatchObject({ ansible_user: "pi", ansible_port: 22 });
    expect(inv.all.vars.docker_insecure_registries).toEqual(["192.168.1.11:5000"]);
    // Redis on three nodes; app.redis.node only names the first primary (the sentinels pick later ones).
    expect(inv.all.children.redis?.hosts).toEqual({ pi1: null, pi2: null, pi3: null });
    expect(inv.all.vars).toMatchObject({ redis_initial_primary: "pi1", redis_persistence: "aof", redis_maxmemory: "48mb" });
    // keepalived on the two load balancers, each advertising to the other, the VIP with its prefix.
    expect(inv.all.children.loadbalancers?.hosts).toEqual({ pi1: null, pi4: null });
    expect(inv.all.hosts.pi1).toMatchObject({ keepalived_priority: 150, keepalived_unicast_peers: ["192.168.1.14"] });
    expect(inv.all.hosts.pi4).toMatchObject({ keepalived_priority: 140, keepalived_unicast_peers: ["192.168.1.11"] });
    expect(inv.all.hosts.pi2).not.toHaveProperty("keepalived_priority");
    expect(inv.all.vars).toMatchObject({ keepalived_vip: "192.168.1.250/24", keepalived_virtual_router_id: vrrpRouterId("picluster") });
  });

  it("derives a VRRP router id in 1-255 from the cluster name, the same every time", () => {
    const ids = ["picluster", "pfs-0a1b2c3d", "c", "another-cluster"].map(vrrpRouterId);
    for (const id of ids) expect(id >= 1 && id <= 255, `router id ${id}`).toBe(true);
    expect(vrrpRouterId("picluster")).toBe(ids[0]);
    expect(new Set(ids).size).toBeGreaterThan(1);
  });

  it("tells the roles they run in the sim only for a simulated fleet", () => {
    expect(buildInventory(threeNodeFleet()).all.vars.pifleet_sim).toBe(false);
    expect(buildInventory(threeNodeFleet({ simulated: true })).all.vars.pifleet_sim).toBe(true);
  });

  it("emits only groups a play targets and variables a role reads", () => {
    const inv = buildInventory(threeNodeFleet());
    expect(Object.keys(inv.all.children).sort()).toEqual(["redis", "registry", "runners", "swarm_managers", "swarm_workers"]);
    const hostVars = Object.values(inv.all.hosts).flatMap((h) => Object.keys(h));
    const readByRoles = roleSources();
    for (const name of [...Object.keys(inv.all.vars), ...hostVars].filter((n) => !n.startsWith("ansible_"))) {
      expect(readByRoles, `${name} is emitted but no role reads it`).toMatch(new RegExp(`\\b${name}\\b`));
    }
  });
});
