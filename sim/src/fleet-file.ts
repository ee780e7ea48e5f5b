import type { FleetInput } from "@pifleet/fleet";
import { Document, isScalar, visit } from "yaml";
import type { SimLayout } from "./layout.js";

/** How many nodes (the first runner nodes) serve the protected deploy pool. */
const DEPLOY_NODES = 2;

export interface SimGitlab {
  url: string;
  projectId: number;
}

/**
 * The fleet model for a sim: its nodes at their fixed addresses, the emulator as GitLab,
 * and Docker address pools inside 198.18.0.0/15 so nested engines obey the network rule. Pure.
 */
export function simFleet(layout: SimLayout, gitlab: SimGitlab): FleetInput {
  return {
    cluster: layout.instance,
    gitlab: { url: gitlab.url, runnerScope: { type: "project", id: gitlab.projectId }, tokenEnv: "GITLAB_TOKEN" },
    // Relative to the fleet file: `sim push` commits the fleet file and known_hosts side by side.
    ssh: { user: "pi", privateKey: "./id_ed25519", knownHosts: "./known_hosts" },
    docker: {
      bip: "198.18.100.1/24",
      addressPools: [{ base: "198.18.128.0/18", size: 24 }],
      swarmAddressPool: { base: "198.18.192.0/18", size: 24 },
    },
    // A sim node is a container on this machine's kernel: its OS is systemd, journald, sshd, logind,
    // dbus and unattended-upgrades, 70 MiB resident measured. Everything else has its own budget line.
    runners: { osReserveMiB: 128 },
    nodes: layout.nodes.map((n) => ({
      name: n.name,
      address: n.address,
      arch: layout.arch,
      memoryMiB: layout.memoryMiB,
      cpus: layout.cpus,
      roles: n.roles,
    })),
    // The pools of examples/fleet.yaml: every runner node takes container jobs; the first two
    // also take the protected jobs that change the fleet and build images with the node's engine.
    pools: [
      // Type-checking the repository in a verify job needs about 1 GiB.
      {
        name: `${layout.arch}-docker`,
        executor: "docker",
        tags: [layout.arch, "docker", "pi"],
        jobMemoryMiB: 1024,
        select: { roles: ["runner"] },
      },
      {
        name: "deploy",
        executor: "docker",
        dockerSocket: true,
        tags: ["deploy", "pifleet", layout.arch],
        protected: true,
        nodes: layout.nodes
          .filter((n) => n.roles.includes("runner"))
          .slice(0, DEPLOY_NODES)
          .map((n) => n.name),
      },
    ],
    // The load balancer runs on the loadbalancer nodes; clients (tests, `sim status`) use the VIP.
    app: { image: "pifleet/counter", port: 8080, redis: { node: "pi1" }, loadBalancer: { vip: layout.network.vip } },
    simulated: true,
  };
}

export function renderFleetYaml(layout: SimLayout, gitlab: SimGitlab): string {
  const header = [
    `# Written by \`pifleet sim up\` for the simulated fleet ${layout.instance} (${layout.nodes.length} × ${layout.arch}).`,
    "# Regenerated on every `sim up`; edit a copy, not this file. The GitLab token is in gitlab/gitlab-token",
    "# (export GITLAB_TOKEN=$(cat gitlab/gitlab-token)), never in this file.",
  ];
  const doc = new Document(simFleet(layout, gitlab));
  // Lists of plain values (roles, tags) on one line, as examples/fleet.yaml writes them.
  visit(doc, {
    Seq(_, seq) {
      if (seq.items.every((item) => isScalar(item))) seq.flow = true;
    },
  });
  return `${header.join("\n")}\n${doc.toString({ lineWidth: 0, flowCollectionPadding: false })}`;
}

/** known_hosts: one line per node pinning the host key `sim up` generated and installed in it. */
export function renderKnownHosts(entries: { address: string; publicKey: string }[]): string {
  return entries.map((e) => `${e.address} ${e.publicKey.trim().split(/\s+/).slice(0, 2).join(" ")}\n`).join("");
}
