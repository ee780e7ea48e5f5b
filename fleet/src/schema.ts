import { isIP } from "node:net";
import { z } from "zod";

/**
 * The fleet.yaml model. Keys are camelCase; every object is strict so a typo
 * is an error, not a silently ignored setting.
 */

export const ROLES = ["swarm-manager", "swarm-worker", "runner", "app", "redis", "loadbalancer"] as const;
export const ARCHES = ["arm64", "armhf", "amd64"] as const;
export const EXECUTORS = ["docker", "shell"] as const;
export const RUNNER_SCOPES = ["instance", "group", "project"] as const;

const HOSTNAME = /^(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;
const NODE_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const TAG = /^[A-Za-z0-9_.:-]{1,64}$/;

/*
 * Values below reach a shell, an ssh argument, ansible.cfg or a template on the nodes. Each is
 * held to what it can legitimately be, so none can become an option, a second command or Jinja.
 */

/** A POSIX login name as Debian's adduser accepts it: never a leading "-" (ssh would read an option). */
const POSIX_USER = /^[a-z_][a-z0-9_-]{0,31}$/;
/** A Linux interface name: at most 15 characters, no "/", ":" or whitespace, no leading "-" or ".". */
const INTERFACE = /^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,14}$/;
/** Control characters (a newline included): never part of a value written into a file on the nodes. */
const CONTROL = /[\u0000-\u001f\u007f]/;
/** What a file path in fleet.yaml may not hold: ssh and ansible.cfg could quote around nothing else. */
const PATH_FORBIDDEN = /[\u0000-\u001f\u007f"'`\\$%;{}]/;
/** A Docker image reference: [registry[:port]/]name[:tag][@digest]. */
const IMAGE =
  /^[a-z0-9][a-z0-9._-]*(?::[0-9]+)?(?:\/[a-z0-9][a-z0-9._-]*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$/;

/** True for a time zone the system's tz database knows (IANA names such as Europe/Berlin or Etc/UTC). */
export function isIanaTimezone(value: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(?:\/[A-Za-z0-9_+-]+)*$/.test(value)) return false;
  try {
    new Intl.DateTimeFormat("en", { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

const filePath = (what: string) =>
  z
    .string()
    .min(1)
    .refine((v) => !PATH_FORBIDDEN.test(v), {
      error: (i) =>
        `${what} ${JSON.stringify(i.input)} holds a quote, backslash, $, %, ;, brace or control character; ssh and Ansible cannot be given such a path safely: move or rename the file`,
    });

const nodeRef = (what: string) => z.string().regex(NODE_NAME, `${what} must be a node name (lowercase letters, digits and -)`);

export function isValidAddress(value: string): boolean {
  if (isIP(value) !== 0) return true;
  // Dotted digits that are not an IPv4 address (e.g. 192.168.1.300) are a typo, not a hostname.
  if (/^[\d.]+$/.test(value)) return false;
  return HOSTNAME.test(value);
}

export function isValidCidr(value: string): boolean {
  const [ip, bits, extra] = value.split("/");
  if (extra !== undefined || ip === undefined || bits === undefined || !/^\d{1,3}$/.test(bits)) return false;
  const family = isIP(ip);
  return family !== 0 && Number(bits) <= (family === 4 ? 32 : 128);
}

const address = z
  .string()
  .refine(isValidAddress, { error: (i) => `invalid address ${JSON.stringify(i.input)}: expected an IPv4/IPv6 address or a hostname` })
  .describe("IPv4/IPv6 address or DNS name the node is reached at over SSH.");

const cidr = z
  .string()
  .refine(isValidCidr, { error: (i) => `invalid CIDR ${JSON.stringify(i.input)}: expected ADDRESS/BITS, e.g. 198.18.0.0/16` });

const positiveInt = z.number().int().positive();

export const RoleSchema = z.enum(ROLES).describe("What the node does in the cluster.");
export const ArchSchema = z.enum(ARCHES).describe("CPU architecture as Debian names it.");

const Labels = z
  .record(
    z.string().regex(/^[a-zA-Z0-9_./-]{1,63}$/, "label names are 1-63 letters, digits and _ . / -"),
    z
      .string()
      .max(253)
      .refine((v) => !CONTROL.test(v), "label values are one line: remove the newline or control character"),
  )
  .describe("Free-form labels, used as Swarm node labels and in pool selectors.");

export const NodeSchema = z.strictObject({
  name: z.string().regex(NODE_NAME, "node name must be a lowercase hostname label (a-z, 0-9, -)").describe("Hostname of the Pi; unique."),
  address,
  arch: ArchSchema.default("arm64"),
  memoryMiB: positiveInt.default(2048).describe("RAM in MiB (a Pi 4 2 GB is 2048)."),
  cpus: positiveInt.default(4),
  roles: z.array(RoleSchema).min(1).describe("Roles: swarm-manager, swarm-worker, runner, app, redis, loadbalancer."),
  labels: Labels.default({}),
  network: z
    .strictObject({
      staticAddress: cidr.describe("Static address with prefix, e.g. 192.168.1.11/24."),
      gateway: z.string().refine((v) => isIP(v) !== 0, "gateway must be an IP address"),
      dns: z.array(z.string().refine((v) => isIP(v) !== 0, "dns entries must be IP addresses")).default([]),
      interface: z
        .string()
        .regex(INTERFACE, "network.interface must be a Linux interface name such as eth0 or end0 (at most 15 letters, digits, _ . @ -)")
        .default("eth0"),
    })
    .optional()
    .describe("Optional static IP configured through NetworkManager."),
});

export const NodeSelectorSchema = z
  .strictObject({
    roles: z.array(RoleSchema).optional(),
    arch: z.array(ArchSchema).optional(),
    labels: Labels.optional(),
  })
  .describe("Selects nodes having all of the given roles, one of the arches and all labels.");

export const RunnerPoolSchema = z.strictObject({
  name: z.string().regex(NODE_NAME, "pool name must be lowercase letters, digits and -"),
  executor: z.enum(EXECUTORS).default("docker"),
  tags: z.array(z.string().regex(TAG, "tags are 1-64 characters of letters, digits, _ . : -")).default([]),
  jobMemoryMiB: positiveInt.default(512).describe("Memory one job may use; sets how many jobs a node runs at once."),
  runUntagged: z.boolean().default(false),
  protected: z.boolean().default(false).describe("Run jobs from protected branches only (access_level ref_protected)."),
  image: z
    .string()
    .regex(IMAGE, "image must be a Docker image reference such as debian:bookworm-slim or registry:5000/team/tool:1.2")
    .optional()
    .describe("Default image for the docker executor."),
  dockerSocket: z
    .boolean()
    .default(false)
    .describe(
      "Mount the node's /var/run/docker.sock into the pool's job containers (docker executor only), for jobs that build images or deploy with the node's Docker engine. Root on the node for every job: give it to protected pools only.",
    ),
  nodes: z.array(nodeRef("pool nodes")).optional().describe("Node names in this pool. Mutually exclusive with select."),
  select: NodeSelectorSchema.optional(),
});

export const GitlabSchema = z.strictObject({
  url: z
    .url({ protocol: /^https?$/ })
    .refine((v) => !/[\s"'`\\{}]/.test(v), "gitlab.url may not hold whitespace, quotes, backslashes or braces")
    .describe("GitLab base URL, e.g. https://gitlab.example.com"),
  runnerScope: z
    .strictObject({
      type: z.enum(RUNNER_SCOPES),
      id: positiveInt.optional().describe("Group or project id; not used for instance runners."),
    })
    .describe("Where runners are registered."),
  tokenEnv: z
    .string()
    .regex(/^[A-Z_][A-Z0-9_]*$/)
    .default("GITLAB_TOKEN")
    .describe("Environment variable holding the API token. Tokens never live in fleet.yaml."),
});

export const SshSchema = z.strictObject({
  user: z
    .string()
    .regex(POSIX_USER, "ssh.user must be a POSIX user name: a lowercase letter or _ first, then up to 31 lowercase letters, digits, _ or -")
    .default("pi"),
  privateKey: filePath("ssh.privateKey").describe(
    "Path to the private key; relative to fleet.yaml. The environment variable PIFLEET_SSH_KEY (a path) overrides it.",
  ),
  knownHosts: filePath("ssh.knownHosts").describe("Path to the known_hosts file pinning every node's host key; relative to fleet.yaml."),
  port: z.number().int().min(1).max(65535).default(22),
});

export const AddressPoolSchema = z.strictObject({ base: cidr, size: z.number().int().min(8).max(30) });

export const DockerSchema = z.strictObject({
  bip: cidr.optional().describe("Address of docker0 on every node, e.g. 198.18.100.1/24."),
  addressPools: z.array(AddressPoolSchema).default([]).describe("Daemon default-address-pools (also used by docker_gwbridge)."),
  swarmAddressPool: AddressPoolSchema.optional().describe("swarm init --default-addr-pool (overlay and ingress networks)."),
  logMaxSize: z
    .string()
    .regex(/^\d+[kmg]$/)
    .default("10m"),
  logMaxFiles: positiveInt.default(3),
  source: z.enum(["debian", "docker"]).default("debian").describe("debian: Debian's docker.io; docker: Docker's own apt repository."),
});

export const OsSchema = z.strictObject({
  timezone: z
    .string()
    .refine(isIanaTimezone, {
      error: (i) =>
        `os.timezone ${JSON.stringify(i.input)} is not an IANA time zone: use a name such as Europe/Berlin or Etc/UTC (timedatectl list-timezones)`,
    })
    .default("Etc/UTC"),
  poeFanTemps: z
    .tuple([z.number(), z.number(), z.number(), z.number()])
    .default([50, 60, 67.5, 75])
    .refine((t) => t.every((v, i) => i === 0 || v > (t[i - 1] as number)), "poeFanTemps must be strictly ascending")
    .describe("PoE HAT fan thresholds in °C (poe_fan_temp0..3)."),
  gpuMemMiB: positiveInt.default(16),
  journaldMaxUse: z
    .string()
    .regex(/^\d+[KMG]$/)
    .default("50M"),
});

export const RunnerSettingsSchema = z.strictObject({
  osReserveMiB: z
    .number()
    .int()
    .min(0)
    .default(384)
    .describe(
      "Memory kept for the OS on every node: kernel, system services, page cache (swap is off). pifleet's own daemons and the app's services have their own lines in the memory budget (`pifleet validate`).",
    ),
  metricsPort: z.number().int().min(1).max(65535).default(9252),
  checkIntervalSeconds: positiveInt.default(3),
});

export const AppSchema = z.strictObject({
  image: z
    .string()
    .regex(IMAGE, "app.image must be an image name such as pifleet/counter")
    .describe("Image name without registry, e.g. pifleet/counter."),
  replicas: positiveInt.optional().describe("Defaults to the number of app nodes."),
  port: z.number().int().min(1).max(65535).default(8080),
  redis: z.strictObject({
    node: nodeRef("app.redis.node").describe(
      "The first Redis primary; must have the redis role. Redis and a sentinel run on every redis node; the sentinels pick later primaries.",
    ),
    persistence: z.enum(["aof", "rdb", "none"]).default("aof"),
  }),
  registry: z
    .strictObject({ node: nodeRef("app.registry.node"), port: z.number().int().min(1).max(65535).default(5000) })
    .optional()
    .describe("The cluster's image registry; defaults to the first swarm manager, port 5000."),
  loadBalancer: z
    .strictObject({
      node: nodeRef("app.loadBalancer.node")
        .optional()
        .describe("The one load-balancer node when no node has the loadbalancer role; defaults to the first swarm manager."),
      port: z.number().int().min(1).max(65535).default(80),
      vip: cidr
        .optional()
        .describe(
          "Virtual IPv4 address with the LAN's prefix, e.g. 192.168.1.250/24, that keepalived keeps on one healthy loadbalancer node; clients use it. Required with more than one loadbalancer node; inside the nodes' network, no node's address.",
        ),
    })
    .optional()
    .describe(
      "The health-checked load balancer: on every node with the loadbalancer role behind app.loadBalancer.vip, else on app.loadBalancer.node (default: the first swarm manager); port 80 by default.",
    ),
});

export const FleetSchema = z.strictObject({
  cluster: z.string().regex(NODE_NAME, "cluster name must be lowercase letters, digits and -").describe("Cluster name."),
  gitlab: GitlabSchema,
  ssh: SshSchema,
  os: OsSchema.default(OsSchema.parse({})),
  docker: DockerSchema.default(DockerSchema.parse({})),
  runners: RunnerSettingsSchema.default(RunnerSettingsSchema.parse({})),
  nodes: z.array(NodeSchema).min(1),
  pools: z.array(RunnerPoolSchema).default([]),
  app: AppSchema.optional(),
  simulated: z
    .boolean()
    .default(false)
    .describe(
      "true when the nodes are pifleet's simulated Pis (`pifleet sim up` writes it): Ansible then skips what a container cannot do, such as rebooting.",
    ),
});

export type Role = z.infer<typeof RoleSchema>;
export type Arch = z.infer<typeof ArchSchema>;
export type FleetNode = z.infer<typeof NodeSchema>;
export type RunnerPool = z.infer<typeof RunnerPoolSchema>;
export type Fleet = z.infer<typeof FleetSchema>;
export type FleetInput = z.input<typeof FleetSchema>;
