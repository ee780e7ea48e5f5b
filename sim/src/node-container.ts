import { LXCFS_PROC_FILES } from "./host-services.js";
import { NODE_LABEL, type NodePlan, SIM_LABEL, type SimLayout } from "./layout.js";

/**
 * Flags that let a node run its own Docker engine and systemd as PID 1 on this host
 * (DESIGN.md: --privileged fails here because CAP_SYS_RESOURCE is unavailable).
 */
export const NESTED_DOCKER_FLAGS = [
  "--cap-add",
  "ALL",
  "--cap-drop",
  "SYS_RESOURCE",
  "--security-opt",
  "seccomp=unconfined",
  "--security-opt",
  "apparmor=unconfined",
  "--security-opt",
  "systempaths=unconfined",
  "--cgroupns",
  "host",
  "-v",
  "/sys/fs/cgroup:/sys/fs/cgroup:rw",
];

/**
 * systemd as PID 1: fresh /run like a booted machine, and the signal systemd shuts down on.
 * A `reboot` inside the node ends PID 1 (a container cannot restart the kernel); the restart policy
 * starts the container again, so the node boots anew at the same address, as a Pi does. `docker stop`
 * (sim fault stop, sim down) is the one way to keep it down: unless-stopped leaves a stopped node stopped.
 */
const SYSTEMD_FLAGS = [
  "--tmpfs",
  "/run",
  "--tmpfs",
  "/run/lock",
  "--stop-signal",
  "SIGRTMIN+3",
  "--stop-timeout",
  "20",
  "--restart",
  "unless-stopped",
];

export function labelArgs(instance: string, node?: string): string[] {
  return ["--label", `${SIM_LABEL}=${instance}`, ...(node ? ["--label", `${NODE_LABEL}=${node}`] : [])];
}

/** `docker create` arguments for one node. Pure; lxcfsDir undefined means no lxcfs views. */
export function nodeCreateArgs(layout: SimLayout, node: NodePlan, image: string, lxcfsDir: string | undefined): string[] {
  const lxcfs = lxcfsDir ? LXCFS_PROC_FILES.flatMap((f) => ["-v", `${lxcfsDir}/proc/${f}:/proc/${f}:ro`]) : [];
  return [
    "create",
    "--name",
    node.container,
    "--hostname",
    node.name,
    ...labelArgs(layout.instance, node.name),
    "--network",
    layout.network.name,
    "--ip",
    node.address,
    "--network-alias",
    node.name,
    "--memory",
    `${layout.memoryMiB}m`,
    "--memory-swap",
    `${layout.memoryMiB}m`,
    ...NESTED_DOCKER_FLAGS,
    ...SYSTEMD_FLAGS,
    "-v",
    `${node.dockerVolume}:/var/lib/docker`,
    ...lxcfs,
    image,
  ];
}

/** The apt proxy configuration a node gets, pointing at the host's apt-cacher-ng. */
export function aptProxyConf(proxyUrl: string): string {
  return `// Written by pifleet sim up: Debian packages come through the host's shared apt-cacher-ng.\nAcquire::http::Proxy "${proxyUrl}";\n`;
}
