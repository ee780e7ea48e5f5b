import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DiagnosticsError, ExitCode, InputError } from "./errors.js";
import { loadFleetFile, parseFleet } from "./load.js";

const examples = new URL("../../examples/", import.meta.url).pathname;
const invalid = join(examples, "invalid");

function diagnosticsOf(file: string): string[] {
  const text = readFileSync(join(invalid, file), "utf8");
  try {
    parseFleet(text, file);
  } catch (err) {
    expect(err).toBeInstanceOf(DiagnosticsError);
    expect((err as DiagnosticsError).exitCode).toBe(ExitCode.badInput);
    return (err as DiagnosticsError).diagnostics.map((d) => `${d.file}:${d.line}:${d.col}: ${d.message}`);
  }
  throw new Error(`${file} parsed without errors`);
}

describe("parseFleet on the reference cluster", () => {
  it("accepts examples/fleet.yaml and applies defaults", () => {
    const fleet = parseFleet(readFileSync(join(examples, "fleet.yaml"), "utf8"));
    expect(fleet.cluster).toBe("picluster");
    expect(fleet.nodes.map((n) => n.name)).toEqual(["pi1", "pi2", "pi3", "pi4"]);
    expect(fleet.gitlab.tokenEnv).toBe("GITLAB_TOKEN");
    expect(fleet.ssh.port).toBe(22);
    expect(fleet.pools[0]?.runUntagged).toBe(false);
    expect(fleet.docker.addressPools).toEqual([]);
  });
});

describe("every error kind points at its source", () => {
  const cases: Record<string, string[]> = {
    "unknown-key.yaml": ['unknown-key.yaml:62:5: unknown key "colour" in nodes[3]; check its spelling against fleet.schema.json'],
    "wrong-type.yaml": ['wrong-type.yaml:44:16: nodes[1].memoryMiB: expected number, got string "two gigs"'],
    "duplicate-node-name.yaml": ['duplicate-node-name.yaml:49:11: duplicate node name "pi2" (first used by nodes[1])'],
    "duplicate-node-address.yaml": ['duplicate-node-address.yaml:58:14: duplicate node address "192.168.1.13" (first used by nodes[2])'],
    "invalid-address.yaml": [
      'invalid-address.yaml:42:14: nodes[1].address: invalid address "192.168.1.312": expected an IPv4/IPv6 address or a hostname',
    ],
    "pool-selects-no-node.yaml": [
      'pool-selects-no-node.yaml:67:5: runner pool "arm64-docker" selects no node; check its nodes or select (with neither, it takes the nodes with role runner)',
    ],
    "docker-socket-shell-pool.yaml": [
      'docker-socket-shell-pool.yaml:81:19: runner pool "deploy" has dockerSocket: true but executor shell; only docker-executor jobs get the socket mounted, so use executor: docker or drop dockerSocket',
    ],
    "no-swarm-manager.yaml": ["no-swarm-manager.yaml:33:3: no node has the swarm-manager role; the Swarm needs at least one manager"],
    "unknown-role.yaml": [
      'unknown-role.yaml:62:35: unknown role "webserver" at nodes[3].roles[2]: expected one of swarm-manager, swarm-worker, runner, app, redis, loadbalancer',
    ],
    "unknown-arch.yaml": ['unknown-arch.yaml:51:11: unknown arch "x86" at nodes[2].arch: expected one of arm64, armhf, amd64'],
    "yaml-syntax.yaml": ["yaml-syntax.yaml:55:5: Flow sequence in block collection must be sufficiently indented and end with a ]"],
    "two-redis-nodes.yaml": [
      "two-redis-nodes.yaml:53:12: 2 nodes have the redis role (pi1, pi2): the sentinels need 2 of 2 votes to fail over, so losing either node stops the counter's writes; give the redis role to 1 node (no failover) or to 3 or more",
    ],
    "over-committed.yaml": [
      'over-committed.yaml:74:19: runner pool "arm64-docker" gives each job 1024 MiB, more than is left on pi1 (2048 MiB, ' +
        "OS 512 + GPU 16 + dockerd + containerd 192 + Swarm manager 32 + gitlab-runner 64 + registry 64 + redis-server 112 + " +
        "redis-sentinel 16 + load balancer 64 + app 192 = 1264 MiB: 784 MiB left, 240 MiB short): its runner there could not take one job; " +
        "take pi1 out of the pool (nodes or select), lower jobMemoryMiB, or move services off that node",
    ],
  };

  it("has a test for every file in examples/invalid", () => {
    const files = readdirSync(invalid).filter((f) => f.endsWith(".yaml") && f !== "several-errors.yaml");
    expect(files.sort()).toEqual(Object.keys(cases).sort());
  });

  for (const [file, expected] of Object.entries(cases)) {
    it(file, () => {
      expect(diagnosticsOf(file)).toEqual(expected);
    });
  }

  it("reports all errors at once, in file order", () => {
    expect(diagnosticsOf("several-errors.yaml")).toEqual([
      'several-errors.yaml:42:14: nodes[1].address: invalid address "192.168.1.312": expected an IPv4/IPv6 address or a hostname',
      'several-errors.yaml:49:11: duplicate node name "pi1" (first used by nodes[0])',
      'several-errors.yaml:62:5: unknown key "colour" in nodes[3]; check its spelling against fleet.schema.json',
    ]);
  });
});

describe("values that reach a shell, an ssh argument or a template", () => {
  const example = readFileSync(join(examples, "fleet.yaml"), "utf8");
  const located = (text: string) => {
    try {
      parseFleet(text, "fleet.yaml");
    } catch (err) {
      expect((err as DiagnosticsError).exitCode).toBe(ExitCode.badInput);
      return (err as DiagnosticsError).diagnostics.map((d) => `${d.file}:${d.line}:${d.col}: ${d.message}`);
    }
    return [];
  };
  const edited = (...pairs: [string, string][]) => pairs.reduce((text, [from, to]) => text.replace(from, to), example);

  it("locates a user that would be an ssh option, a templated time zone, a label with a newline and a quoted path", () => {
    const text = edited(
      ["  user: pi\n", `  user: "-oProxyCommand=touch /tmp/x"\n`],
      ["  knownHosts: ./known_hosts\n", `  knownHosts: './known_hosts" -oProxyCommand=x'\n`],
      ["  timezone: Europe/Berlin\n", `  timezone: "{{ lookup('pipe', 'id') }}"\n`],
      ["      rack: a\n", `      rack: "a\\nswarm_role: manager"\n`],
    );
    expect(located(text)).toEqual([
      "fleet.yaml:16:9: ssh.user: ssh.user must be a POSIX user name: a lowercase letter or _ first, then up to 31 lowercase letters, digits, _ or -",
      `fleet.yaml:18:15: ssh.knownHosts: ssh.knownHosts "./known_hosts\\" -oProxyCommand=x" holds a quote, backslash, $, %, ;, brace or control character; ssh and Ansible cannot be given such a path safely: move or rename the file`,
      `fleet.yaml:21:13: os.timezone: os.timezone "{{ lookup('pipe', 'id') }}" is not an IANA time zone: use a name such as Europe/Berlin or Etc/UTC (timedatectl list-timezones)`,
      "fleet.yaml:45:13: nodes[0].labels.rack: label values are one line: remove the newline or control character",
    ]);
  });

  it("locates an interface name that is not one, and an image that is not an image reference", () => {
    const text = edited(
      [
        "    labels:\n      rack: a\n",
        "    labels:\n      rack: a\n    network: { staticAddress: 192.168.1.11/24, gateway: 192.168.1.1, interface: eth0;reboot }\n",
      ],
      ["  image: pifleet/counter\n", "  image: pifleet/counter $(id)\n"],
    );
    const errors = located(text);
    expect(errors[0]).toBe(
      "fleet.yaml:46:81: nodes[0].network.interface: network.interface must be a Linux interface name such as eth0 or end0 (at most 15 letters, digits, _ . @ -)",
    );
    expect(errors[1]).toMatch(/^fleet\.yaml:\d+:10: app\.image: app\.image must be an image name such as pifleet\/counter$/);
  });

  it("accepts what these fields legitimately hold", () => {
    const text = edited(
      ["  user: pi\n", "  user: _deploy-1\n"],
      ["  knownHosts: ./known_hosts\n", "  knownHosts: ./my keys/known_hosts\n"],
      ["  timezone: Europe/Berlin\n", "  timezone: America/Argentina/Buenos_Aires\n"],
      ["      rack: a\n", '      rack: "a {b} / c=d"\n'],
    );
    expect(located(text)).toEqual([]);
  });
});

describe("cross-field checks", () => {
  const minimal = (extra: string) => `cluster: c
gitlab: { url: "https://gitlab.example.com", runnerScope: { type: instance } }
ssh: { privateKey: k, knownHosts: h }
nodes:
  - { name: a, address: 198.18.0.10, roles: [swarm-manager, runner, redis] }
  - { name: b, address: b.local, roles: [swarm-worker, runner, app] }
${extra}`;

  const messages = (text: string) => {
    try {
      parseFleet(text);
      return [];
    } catch (err) {
      return (err as DiagnosticsError).diagnostics.map((d) => d.message);
    }
  };

  it("accepts a minimal fleet with hostnames", () => {
    expect(messages(minimal(""))).toEqual([]);
  });

  it("rejects a pool naming an unknown node, and both nodes and select", () => {
    expect(messages(minimal("pools:\n  - { name: p, nodes: [a, zz], select: { roles: [runner] } }"))).toEqual([
      'runner pool "p" names unknown node "zz"',
      'runner pool "p" has both nodes and select; use one',
    ]);
  });

  it("requires an id for group and project scopes", () => {
    expect(messages(minimal("").replace("type: instance", "type: project"))).toEqual([
      "runner scope project needs an id (the project's numeric id)",
    ]);
  });

  it("checks the app's Redis node", () => {
    expect(messages(minimal("app: { image: x, redis: { node: b } }"))).toEqual(['node "b" runs Redis but lacks the redis role']);
    expect(messages(minimal("app: { image: x, redis: { node: q } }"))).toEqual(['app.redis.node names unknown node "q"']);
  });

  it("rejects app and redis roles outside the Swarm, and manager+worker", () => {
    const text = minimal("")
      .replace("[swarm-worker, runner, app]", "[runner, app]")
      .replace("[swarm-manager, runner, redis]", "[swarm-manager, swarm-worker]");
    expect(messages(text)).toEqual([
      'node "a" is both swarm-manager and swarm-worker; give it one of them',
      'node "b" has role app but is not in the Swarm; add swarm-manager or swarm-worker',
    ]);
  });

  it("places the load balancer one way, and needs a VIP on the LB nodes' LAN for more than one", () => {
    const lbNodes = (extra: string) =>
      minimal(extra)
        .replace("[swarm-manager, runner, redis]", "[swarm-manager, runner, redis, loadbalancer]")
        .replace("[swarm-worker, runner, app]", "[swarm-worker, runner, app, loadbalancer]")
        .replace("address: b.local", "address: 198.18.0.11");
    expect(messages(lbNodes("app: { image: x, redis: { node: a }, loadBalancer: { vip: 198.18.0.250/24 } }"))).toEqual([]);
    expect(messages(lbNodes("app: { image: x, redis: { node: a } }"))).toEqual([
      "2 nodes have the loadbalancer role, so clients need one address that moves between them: set app.loadBalancer.vip (a free address on their LAN, e.g. 192.168.1.250/24)",
    ]);
    expect(messages(lbNodes("app: { image: x, redis: { node: a }, loadBalancer: { node: a, vip: 198.18.0.11/24 } }"))).toEqual([
      "app.loadBalancer.node and the loadbalancer role (a, b) both place the load balancer; remove app.loadBalancer.node",
      'app.loadBalancer.vip 198.18.0.11 is node "b"\'s address; the VIP must be a free address',
    ]);
    expect(messages(lbNodes("app: { image: x, redis: { node: a }, loadBalancer: { vip: 198.18.1.250/24 } }"))).toEqual([
      'node "a" (198.18.0.10) is outside app.loadBalancer.vip\'s network 198.18.1.250/24: VRRP and ARP move the VIP only within one LAN',
      'node "b" (198.18.0.11) is outside app.loadBalancer.vip\'s network 198.18.1.250/24: VRRP and ARP move the VIP only within one LAN',
    ]);
    expect(messages(lbNodes("app: { image: x, redis: { node: a }, loadBalancer: { vip: 198.18.0.255/24 } }"))).toEqual([
      "app.loadBalancer.vip 198.18.0.255/24 is the network's broadcast address; pick a free host address",
    ]);
    expect(messages(lbNodes("app: { image: x, redis: { node: a }, loadBalancer: { vip: fd00::250/64 } }"))).toEqual([
      'app.loadBalancer.vip "fd00::250/64" must be an IPv4 address with the LAN\'s prefix, e.g. 192.168.1.250/24',
    ]);
  });

  it("rejects fan thresholds that do not ascend, and a missing required key", () => {
    const text = minimal("os: { poeFanTemps: [60, 50, 70, 80] }").replace(
      "ssh: { privateKey: k, knownHosts: h }",
      "ssh: { privateKey: k }",
    );
    expect(messages(text)).toEqual([
      "ssh.knownHosts: required string is missing",
      "os.poeFanTemps: poeFanTemps must be strictly ascending",
    ]);
  });
});

describe("loadFleetFile", () => {
  it("resolves SSH paths against the fleet file's folder", async () => {
    const { fleet, file } = await loadFleetFile(join(examples, "fleet.yaml"), {});
    expect(file).toBe(join(examples, "fleet.yaml"));
    expect(fleet.ssh.knownHosts).toBe(join(examples, "known_hosts"));
    expect(fleet.ssh.privateKey).toMatch(/^\/.*\.ssh\/pifleet_ed25519$/);
  });

  it("takes the private key from PIFLEET_SSH_KEY when set (a pipeline's file variable), and only the key", async () => {
    const { fleet } = await loadFleetFile(join(examples, "fleet.yaml"), { PIFLEET_SSH_KEY: "/builds/tmp/PIFLEET_SSH_KEY" });
    expect(fleet.ssh.privateKey).toBe("/builds/tmp/PIFLEET_SSH_KEY");
    expect(fleet.ssh.knownHosts).toBe(join(examples, "known_hosts"));
    const relative = await loadFleetFile(join(examples, "fleet.yaml"), { PIFLEET_SSH_KEY: "keys/id" });
    expect(relative.fleet.ssh.privateKey).toBe(join(process.cwd(), "keys/id"));
    const empty = await loadFleetFile(join(examples, "fleet.yaml"), { PIFLEET_SSH_KEY: "" });
    expect(empty.fleet.ssh.privateKey).toMatch(/\.ssh\/pifleet_ed25519$/);
  });

  it("returns the topology resolved from the validated fleet", async () => {
    const { topology } = await loadFleetFile(join(examples, "fleet.yaml"));
    expect(topology.primaryManager.name).toBe("pi1");
    expect(topology.registry.host).toBe("192.168.1.11:5000");
    expect(topology.runnerScope).toEqual({ type: "project", id: 42 });
  });

  it("says what to do when the file is missing", async () => {
    await expect(loadFleetFile(join(examples, "nope.yaml"))).rejects.toThrow(InputError);
    await expect(loadFleetFile(join(examples, "nope.yaml"))).rejects.toThrow(/cannot read fleet file .*nope\.yaml: no such file/);
  });
});
