import { createHash } from "node:crypto";
import { join } from "node:path";
import { InputError, type Role } from "@pifleet/fleet";

/** Label on every container, network and volume a sim creates; its value is the instance id. */
export const SIM_LABEL = "pifleet.sim";
/** Label naming the sim node a container or volume belongs to. */
export const NODE_LABEL = "pifleet.sim.node";

export const SIM_ARCHES = ["amd64", "arm64"] as const;
export type SimArch = (typeof SIM_ARCHES)[number];

export interface SimOptions {
  /** Absolute directory holding everything the sim writes. */
  dir: string;
  nodes: number;
  arch: SimArch;
  /** Memory per node in MiB (a Pi 4 2 GB has 2048). */
  memoryMiB: number;
  /** CPUs each node reports in the fleet file. */
  cpus: number;
}

export interface NodePlan {
  name: string;
  container: string;
  address: string;
  /** Named volume for the nested engine's /var/lib/docker (overlay on overlay does not work). */
  dockerVolume: string;
  roles: Role[];
}

export interface SimLayout {
  instance: string;
  dir: string;
  arch: SimArch;
  memoryMiB: number;
  cpus: number;
  network: {
    name: string;
    subnet: string;
    gateway: string /** The load balancer's virtual address, e.g. 198.19.255.250/24. */;
    vip: string;
  };
  nodes: NodePlan[];
  files: SimFiles;
}

export interface SimFiles {
  fleet: string;
  sshKey: string;
  knownHosts: string;
  state: string;
  gitlabState: string;
  gitlabToken: string;
  gitlabPid: string;
  gitlabLog: string;
  /** Per-node host keys and other files copied into the node. */
  nodes: string;
}

/** The nodes' login user (as on Raspberry Pi OS); the emulator runs CI jobs on the nodes as this user. */
export const SIM_SSH_USER = "pi";

export const MAX_NODES = 64;
/** Nodes get .11, .12, … like a home LAN's static block; .1 is the network's gateway (the host). */
const FIRST_HOST = 11;

/**
 * A short id derived from the sim directory, so the same --dir always maps to the same
 * containers and two dirs never share names. Starts with a letter: it is also the cluster name.
 */
export function instanceIdFor(dir: string): string {
  return `pfs-${createHash("sha256").update(dir).digest("hex").slice(0, 8)}`;
}

/** "2g", "512m", "2048" (MiB) → MiB. */
export function parseMemory(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([mMgG])?i?[bB]?$/.exec(text.trim());
  if (!m) throw new InputError(`invalid --memory ${JSON.stringify(text)}`, "Give a size like 2g, 1536m or 2048 (MiB).");
  const value = Number(m[1]) * ((m[2] ?? "m").toLowerCase() === "g" ? 1024 : 1);
  const mib = Math.round(value);
  if (mib < 256) throw new InputError(`--memory ${text} is too small: a node needs at least 256m`);
  return mib;
}

function ipv4ToInt(ip: string): number {
  return ip.split(".").reduce((acc, part) => acc * 256 + Number(part), 0);
}

function cidrRange(cidr: string): [number, number] | undefined {
  const [ip, bits] = cidr.split("/");
  if (!ip || !bits || !/^\d+\.\d+\.\d+\.\d+$/.test(ip)) return undefined; // IPv6 pools never clash with ours
  const size = 2 ** (32 - Number(bits));
  const start = Math.floor(ipv4ToInt(ip) / size) * size;
  return [start, start + size - 1];
}

export function cidrsOverlap(a: string, b: string): boolean {
  const ra = cidrRange(a);
  const rb = cidrRange(b);
  if (!ra || !rb) return false;
  return ra[0] <= rb[1] && rb[0] <= ra[1];
}

/**
 * The sim's /24, taken from the top of 198.19.0.0/16 downward (dockerd's default pool
 * allocates from the bottom up), skipping any subnet an existing network uses.
 */
export function pickSubnet(used: readonly string[]): string {
  for (let third = 255; third >= 128; third--) {
    const candidate = `198.19.${third}.0/24`;
    if (!used.some((u) => cidrsOverlap(u, candidate))) return candidate;
  }
  throw new InputError(
    "no free /24 left in 198.19.128.0/17 for a sim network",
    "Stop sims you no longer need (`pifleet sim down --dir DIR`).",
  );
}

function hostAddress(subnet: string, host: number): string {
  const base = subnet.split("/")[0]?.split(".").slice(0, 3).join(".");
  return `${base}.${host}`;
}

/** Three Swarm managers: losing any one node, pi1 included, leaves a Raft quorum of two. */
const MANAGERS = 3;
/**
 * Redis nodes: a primary and two replicas with sentinels, so losing any one node loses no acknowledged
 * count. Two would be worse than one (fleet validation refuses it: no majority of sentinels survives
 * either node), so a 2-node sim runs one.
 */
const redisNodes = (total: number) => (total === 2 ? 1 : 3);
/** Nodes running the app's load balancer; keepalived keeps the VIP on one of them. */
const LOAD_BALANCERS = 2;
/** The VIP's host number: above every node (.11 … .74) and far from the low addresses Docker gives containers joined without --ip. */
export const VIP_HOST = 250;

export function nodeRoles(index: number, total: number): Role[] {
  const roles: Role[] = [index < MANAGERS ? "swarm-manager" : "swarm-worker", "runner", "app"];
  if (index < redisNodes(total)) roles.push("redis");
  if (index < LOAD_BALANCERS) roles.push("loadbalancer");
  return roles;
}

export function simFiles(dir: string): SimFiles {
  return {
    fleet: join(dir, "fleet.yaml"),
    sshKey: join(dir, "id_ed25519"),
    knownHosts: join(dir, "known_hosts"),
    state: join(dir, "state.json"),
    gitlabState: join(dir, "gitlab"),
    gitlabToken: join(dir, "gitlab", "gitlab-token"),
    gitlabPid: join(dir, "gitlab.pid"),
    gitlabLog: join(dir, "gitlab.log"),
    nodes: join(dir, "nodes"),
  };
}

/** Everything `sim up` will create, computed from the options and a free subnet. Pure. */
export function planLayout(options: SimOptions, subnet: string): SimLayout {
  if (!Number.isInteger(options.nodes) || options.nodes < 1 || options.nodes > MAX_NODES) {
    throw new InputError(`--nodes ${options.nodes} is out of range`, `Give a whole number from 1 to ${MAX_NODES}.`);
  }
  const instance = instanceIdFor(options.dir);
  const nodes = Array.from({ length: options.nodes }, (_, i): NodePlan => {
    const name = `pi${i + 1}`;
    return {
      name,
      container: `${instance}-${name}`,
      address: hostAddress(subnet, FIRST_HOST + i),
      dockerVolume: `${instance}-${name}-docker`,
      roles: nodeRoles(i, options.nodes),
    };
  });
  return {
    instance,
    dir: options.dir,
    arch: options.arch,
    memoryMiB: options.memoryMiB,
    cpus: options.cpus,
    network: {
      name: `${instance}-net`,
      subnet,
      gateway: hostAddress(subnet, 1),
      vip: `${hostAddress(subnet, VIP_HOST)}/${subnet.split("/")[1]}`,
    },
    nodes,
    files: simFiles(options.dir),
  };
}
