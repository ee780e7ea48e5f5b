import { isIP } from "node:net";
import { type AnsibleInventory, type Fleet, resolveTopology, swarmLabels, swarmRole, toAnsibleInventory } from "@pifleet/fleet";

/** Inventory group of the registry node (site.yml's registry play). */
export const REGISTRY_GROUP = "registry";

/**
 * The inventory for site.yml: @pifleet/fleet's inventory plus every role
 * variable the roles read, so the roles stay generic and the fleet model is
 * mapped to them in exactly one place (listed in docs/ansible.md).
 */
export function buildInventory(fleet: Fleet): AnsibleInventory {
  const inventory = toAnsibleInventory(fleet);
  const topology = resolveTopology(fleet);
  const { registry } = topology;
  const { os, docker } = fleet;

  Object.assign(inventory.all.vars, {
    ansible_python_interpreter: "/usr/bin/python3",
    base_timezone: os.timezone,
    base_journald_max_use: os.journaldMaxUse,
    base_hosts_entries: fleet.nodes.map((n) => ({ name: n.name, address: n.address })),
    raspberrypi_gpu_mem: os.gpuMemMiB,
    raspberrypi_poe_fan_temps: os.poeFanTemps,
    docker_source: docker.source,
    docker_log_max_size: docker.logMaxSize,
    docker_log_max_files: docker.logMaxFiles,
    docker_bip: docker.bip ?? "",
    docker_address_pools: docker.addressPools.map((p) => ({ base: p.base, size: p.size })),
    docker_insecure_registries: [registry.host],
    docker_users: [fleet.ssh.user],
    swarm_primary_manager: topology.primaryManager.name,
    swarm_default_addr_pool: docker.swarmAddressPool ? [docker.swarmAddressPool.base] : [],
    swarm_subnet_size: docker.swarmAddressPool?.size ?? 24,
    swarm_members: fleet.nodes.filter((n) => swarmRole(n) !== "none").map((n) => n.name),
    registry_port: registry.port,
  });

  for (const node of fleet.nodes) {
    const host = inventory.all.hosts[node.name];
    if (!host) continue;
    host.swarm_role = swarmRole(node);
    host.swarm_labels = swarmLabels(node, topology);
    // Swarm wants an IP (or interface) to advertise; for a DNS name the role's default uses the node's own IP.
    if (isIP(node.address) !== 0) host.swarm_advertise_addr = node.address;
    if (node.network) host.raspberrypi_network = node.network;
  }
  inventory.all.children[REGISTRY_GROUP] = { hosts: { [registry.node.name]: null } };
  return inventory;
}
