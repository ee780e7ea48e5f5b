import { nodesWithRole } from "./derive.js";
import type { Fleet, Role } from "./schema.js";

/** Ansible group for each role; Ansible group names cannot contain "-". */
export const ROLE_GROUPS: Record<Role, string> = {
  "swarm-manager": "swarm_managers",
  "swarm-worker": "swarm_workers",
  runner: "runners",
  app: "app_nodes",
  redis: "redis_nodes",
};

export interface AnsibleInventory {
  all: {
    vars: Record<string, unknown>;
    hosts: Record<string, Record<string, unknown>>;
    children: Record<string, { hosts: Record<string, null> }>;
  };
}

/**
 * The Ansible inventory for a fleet (YAML inventory format). Host variables
 * carry what roles need from the model; cluster-wide settings go in all.vars
 * under a pifleet_ prefix.
 */
export function toAnsibleInventory(fleet: Fleet): AnsibleInventory {
  const hosts: AnsibleInventory["all"]["hosts"] = {};
  for (const n of fleet.nodes) {
    hosts[n.name] = {
      ansible_host: n.address,
      pifleet_arch: n.arch,
      pifleet_memory_mib: n.memoryMiB,
      pifleet_cpus: n.cpus,
      pifleet_roles: n.roles,
      pifleet_labels: n.labels,
      ...(n.network ? { pifleet_network: n.network } : {}),
    };
  }
  const children: AnsibleInventory["all"]["children"] = {};
  for (const [role, group] of Object.entries(ROLE_GROUPS) as [Role, string][]) {
    const members = nodesWithRole(fleet, role);
    if (members.length > 0) children[group] = { hosts: Object.fromEntries(members.map((n) => [n.name, null])) };
  }
  return {
    all: {
      vars: {
        ansible_user: fleet.ssh.user,
        ansible_port: fleet.ssh.port,
        ansible_ssh_private_key_file: fleet.ssh.privateKey,
        pifleet_cluster: fleet.cluster,
        pifleet_os: fleet.os,
        pifleet_docker: fleet.docker,
        pifleet_peers: fleet.nodes.map((n) => ({ name: n.name, address: n.address })),
      },
      hosts,
      children,
    },
  };
}
