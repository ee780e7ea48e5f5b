import { createHash } from "node:crypto";
import { isIP } from "node:net";
import { type Fleet, nodesWithRole, REDIS_MAXMEMORY_MIB, type Role, resolveTopology, swarmLabels, swarmRole } from "@pifleet/fleet";
import { Document, visit } from "yaml";

/** Inventory group of the registry node (site.yml's registry play). */
export const REGISTRY_GROUP = "registry";
/** Inventory group of the nodes keepalived keeps the VIP on (site.yml's keepalived play); only with app.loadBalancer.vip. */
export const LOADBALANCER_GROUP = "loadbalancers";

/** The groups site.yml's plays target, by the fleet role that puts a node in them ("-" is not allowed in group names). */
const ROLE_GROUPS: Partial<Record<Role, string>> = {
  "swarm-manager": "swarm_managers",
  "swarm-worker": "swarm_workers",
  runner: "runners",
  redis: "redis",
};

/** An Ansible YAML inventory. */
export interface AnsibleInventory {
  all: {
    vars: Record<string, unknown>;
    hosts: Record<string, Record<string, unknown>>;
    children: Record<string, { hosts: Record<string, null> }>;
  };
}

/**
 * The inventory for site.yml: the hosts, the groups the plays target, and
 * exactly the role variables the roles read, so the roles stay generic and
 * the fleet model is mapped to them in one place (listed in docs/ansible.md).
 */
export function buildInventory(fleet: Fleet): AnsibleInventory {
  const topology = resolveTopology(fleet);
  const { registry } = topology;
  const { os, docker } = fleet;

  const hosts: AnsibleInventory["all"]["hosts"] = {};
  for (const node of fleet.nodes) {
    hosts[node.name] = {
      ansible_host: node.address,
      swarm_role: swarmRole(node),
      swarm_labels: swarmLabels(node, topology),
      // Swarm wants an IP (or interface) to advertise; for a DNS name the role's default uses the node's own IP.
      ...(isIP(node.address) !== 0 ? { swarm_advertise_addr: node.address } : {}),
      ...(node.network ? { raspberrypi_network: node.network } : {}),
    };
  }

  const children: AnsibleInventory["all"]["children"] = {};
  for (const [role, group] of Object.entries(ROLE_GROUPS) as [Role, string][]) {
    const members = nodesWithRole(fleet, role);
    if (members.length > 0) children[group] = { hosts: Object.fromEntries(members.map((n) => [n.name, null])) };
  }
  children[REGISTRY_GROUP] = { hosts: { [registry.node.name]: null } };
  const lb = topology.loadBalancer;
  if (lb?.vip) {
    children[LOADBALANCER_GROUP] = { hosts: Object.fromEntries(lb.nodes.map((n) => [n.name, null])) };
    lb.nodes.forEach((node, i) => {
      Object.assign(hosts[node.name] ?? {}, {
        // Earlier nodes first when several may take the VIP at once; nopreempt keeps it where it is.
        keepalived_priority: 150 - 10 * i,
        keepalived_unicast_peers: lb.nodes.filter((n) => n !== node).map((n) => n.address),
      });
    });
  }

  return {
    all: {
      vars: {
        ansible_user: fleet.ssh.user,
        ansible_port: fleet.ssh.port,
        ansible_ssh_private_key_file: fleet.ssh.privateKey,
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
        ...(fleet.app && topology.redisNode
          ? {
              redis_initial_primary: topology.redisNode.name,
              redis_persistence: fleet.app.redis.persistence,
              redis_maxmemory: `${REDIS_MAXMEMORY_MIB}mb`,
            }
          : {}),
        ...(lb?.vip ? { keepalived_vip: lb.vip.cidr, keepalived_virtual_router_id: vrrpRouterId(fleet.cluster) } : {}),
        // The one switch telling the roles they run in pifleet's sim (containers, not Pis).
        pifleet_sim: fleet.simulated,
      },
      hosts,
      children,
    },
  };
}

/**
 * VRRP's router id (1-255) from the cluster name: stable across runs, and two pifleet clusters
 * (or two sims) on one LAN rarely share it. A clash with another VRRP router stays possible; set
 * keepalived_virtual_router_id by hand then.
 */
export function vrrpRouterId(cluster: string): number {
  return ((createHash("sha256").update(cluster).digest()[0] as number) % 255) + 1;
}

/**
 * The inventory as YAML with every string value tagged `!unsafe`: Ansible then never templates
 * it, so a fleet.yaml value such as "{{ lookup('pipe', …) }}" stays text and runs nothing on
 * the controller. Keys stay plain (group and host names are Ansible's own syntax).
 */
export function renderInventory(inventory: AnsibleInventory): string {
  const doc = new Document(inventory);
  visit(doc, {
    Scalar(key, node) {
      if (key !== "key" && typeof node.value === "string") node.tag = "!unsafe";
    },
  });
  return doc.toString();
}
