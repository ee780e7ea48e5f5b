import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ExitCode, type Fleet, type FleetInput, loadFleetFile } from "@pifleet/fleet";
import { type NodeShell, type SshTarget, sshShell } from "@pifleet/io";
import { type SimStatus, simDown, simFault, simUp } from "@pifleet/sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { configure } from "./configure.js";
import { closeSshMasters } from "./run-dir.js";
import type { PlaybookResult } from "./run-playbook.js";

// A real 3-node sim (systemd, sshd, nested Docker), the real site.yml over SSH with pinned host keys.
// The tests run in order: check fresh nodes, converge pi1 and pi2, check and converge the fleet
// gaining pi3 (a merge request that adds a Pi), inspect, re-run, check a change, then a node down.
let dir: string;
let sim: SimStatus;
let fleet: Fleet;
let shell: NodeShell;
const workDir = () => join(dir, "ansible");
const node = (name: string): SshTarget => {
  const n = sim.nodes.find((x) => x.name === name);
  if (!n) throw new Error(`no sim node ${name}`);
  return { name: n.name, address: n.address };
};
/** A command's stdout on a node, over SSH with the pinned host key; a non-zero exit throws. */
const sshRun = async (target: SshTarget, command: string) => (await shell.script(target, command)).stdout;
/**
 * A new SSH login for the test's own commands: the connection opened before a converge keeps the groups the SSH
 * user had then, and converge adds it to the docker group (whether the old one is still alive is timing).
 */
async function loginAgain(): Promise<void> {
  await shell.close();
  shell = sshShell(fleet.ssh);
}
const log = (message: string) => process.stderr.write(`[ansible itest] ${message}\n`);
const healthy = (r: PlaybookResult, host: string) => expect(r.hosts[host], host).toMatchObject({ failed: 0, unreachable: 0 });
const seconds = (r: PlaybookResult) => `${(r.durationMs / 1000).toFixed(1)}s`;
/** The sim's fleet without one node: out of the nodes and out of every pool that names it. */
async function fleetWithout(name: string): Promise<Fleet> {
  const input = parse(await readFile(sim.fleetFile, "utf8")) as FleetInput;
  const file = join(dir, "sim", `fleet-without-${name}.yaml`);
  const pools = input.pools?.map((p) => (p.nodes ? { ...p, nodes: p.nodes.filter((n) => n !== name) } : p));
  const nodes = input.nodes.filter((n) => n.name !== name);
  // Exactly two redis nodes is no fleet (a failover would need both sentinels): then the first one keeps Redis.
  const redis = nodes.filter((n) => n.roles?.includes("redis"));
  const second = redis.length === 2 ? redis[1] : undefined;
  const kept = nodes.map((n) => (n === second ? { ...n, roles: n.roles?.filter((r) => r !== "redis") } : n));
  await writeFile(file, stringify({ ...input, nodes: kept, pools }));
  return (await loadFleetFile(file)).fleet;
}
const swarmChanges = (r: PlaybookResult) => r.changes.filter((c) => c.task.startsWith("swarm : ")).map((c) => `${c.host}: ${c.task}`);
const PREVIEW = "swarm : Preview this node entering the Swarm with its fleet role and labels (check mode, not in the Swarm yet).";
/** Hostname, role and availability of every Swarm node, with its labels, read on the manager. */
const swarmNodes = async () =>
  (
    await sshRun(
      node("pi1"),
      "docker node ls -q | xargs docker node inspect --format '{{.Description.Hostname}} {{.Spec.Role}} {{.Spec.Availability}} {{json .Spec.Labels}}'",
    )
  )
    .trim()
    .split("\n")
    .sort();
// Touched before a check run: anything in these trees newer than it was written by that run.
const MARKER = "/tmp/pifleet-check-marker";
const markNodes = (names: string[]) => Promise.all(names.map((n) => sshRun(node(n), `sudo touch ${MARKER}`)));
/**
 * Files changed since MARKER. Left out: what redis-sentinel rewrites by itself (CONFIG REWRITE of its own
 * sentinel.conf, through a temp file in /etc/redis, whenever it learns of a peer or an epoch): the daemon's
 * doing, not Ansible's (the role's commands do not run under --check).
 */
const writtenSince = async (name: string) =>
  (
    await sshRun(
      node(name),
      `sudo find /etc /usr /boot /opt /var/lib/dpkg -xdev -newer ${MARKER} -not -path /etc/redis -not -path /etc/redis/sentinel.conf 2>/dev/null || true`,
    )
  ).trim();
/** redis-cli as root on a node, with the fleet's Redis password from its file (never on the argv). */
const REDIS_PASSWORD_FILE = "/etc/redis/pifleet-password";
const authedRedisCli = (args: string) =>
  `sudo sh -c 'REDISCLI_AUTH="$(cat ${REDIS_PASSWORD_FILE} 2>/dev/null)" redis-cli --user default ${args}'`;
/**
 * What redis-server (6379) and the sentinel (26379) answer to PING without and with the password: on the node
 * itself (loopback) and from pi1 over the cluster network (protected mode only lets loopback in without one).
 */
async function pings(name: string, address: string): Promise<{ local: string[]; fromPi1: string[] }> {
  const from = async (on: string, host: string) =>
    (
      await sshRun(
        node(on),
        [6379, 26379]
          .flatMap((port) => [
            `redis-cli -h ${host} -p ${port} PING 2>&1 | head -1`,
            `${authedRedisCli(`-h ${host} -p ${port} PING`)} 2>&1 | head -1`,
          ])
          .join("; "),
      )
    )
      .trim()
      .split("\n");
  return { local: await from(name, "127.0.0.1"), fromPi1: await from("pi1", address) };
}
const NOAUTH = "NOAUTH Authentication required.";
const REDIS_NODES = ["pi1", "pi2", "pi3"];
/** A node's processes, to tell a restart. */
const redisPids = (name: string) =>
  sshRun(node(name), "systemctl show -p MainPID --value redis-server; systemctl show -p MainPID --value redis-sentinel");
/** The replicas authenticate to the primary, the sentinels to the servers and to each other. */
async function expectRedisReplicatingWithPassword(): Promise<void> {
  const primaryAddress = await redisPrimaryAddress();
  const primary = sim.nodes.find((n) => n.address === primaryAddress)?.name ?? `no node at ${primaryAddress}`;
  await expect
    .poll(async () => (await sshRun(node(primary), authedRedisCli("-p 6379 INFO replication"))).match(/connected_slaves:(\d+)/)?.[1], {
      timeout: 20_000,
      interval: 1000,
    })
    .toBe("2");
  for (const name of REDIS_NODES)
    await expect
      .poll(
        async () => {
          const lines = (await sshRun(node(name), authedRedisCli("-p 26379 SENTINEL MASTER pifleet"))).trim().split("\n");
          const fields = Object.fromEntries(lines.flatMap((l, i) => (i % 2 === 0 ? [[l, lines[i + 1]]] : [])));
          return [fields.flags, fields["num-slaves"], fields["num-other-sentinels"]];
        },
        { timeout: 20_000, interval: 1000 },
      )
      .toEqual(["master", "2", "2"]);
}
/** The Redis primary's address, as pi1's sentinel names it. */
const redisPrimaryAddress = async () =>
  (await sshRun(node("pi1"), authedRedisCli("-p 26379 SENTINEL get-master-addr-by-name pifleet"))).split("\n")[0]?.trim();
const hasDocker = async (name: string) => (await sshRun(node(name), "command -v docker || echo none")).trim() !== "none";

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "pf-ans-"));
  sim = await simUp({ dir: join(dir, "sim"), nodes: 3, gitlab: false, progress: log });
  fleet = (await loadFleetFile(sim.fleetFile)).fleet;
  shell = sshShell(fleet.ssh);
});

afterAll(async () => {
  await shell?.close();
  if (dir) {
    await closeSshMasters(workDir());
    await simDown(join(dir, "sim")).catch((err) => log(`sim down failed: ${String(err)}`));
    await rm(dir, { recursive: true, force: true });
  }
});

describe("configure against a 3-node sim", () => {
  it("under --check on nodes never configured previews creating the Swarm, fails for nothing and changes nothing", async () => {
    await markNodes(["pi1", "pi2", "pi3"]);
    const result = await configure({ fleet, workDir: workDir(), check: true, diff: true });
    log(`check of fresh nodes: ${seconds(result)}; ${result.ignored.length} steps other roles could not preview`);
    expect(result.failures).toEqual([]);
    expect(result.exitCode).toBe(ExitCode.ok);
    expect(result.ignored.filter((f) => f.task.startsWith("swarm : "))).toEqual([]);
    expect(swarmChanges(result).sort()).toEqual([`pi1: ${PREVIEW}`, `pi2: ${PREVIEW}`, `pi3: ${PREVIEW}`]);
    for (const name of ["pi1", "pi2", "pi3"]) {
      expect(await hasDocker(name), name).toBe(false);
      expect(await writtenSince(name), name).toBe("");
    }
  });

  it("converges fresh nodes: every host ok (pi3 not in the fleet yet)", async () => {
    const result = await configure({ fleet: await fleetWithout("pi3"), workDir: workDir() });
    log(`fresh converge of pi1, pi2: ${seconds(result)}`);
    await loginAgain();
    expect(result.failures).toEqual([]);
    expect(result.exitCode).toBe(ExitCode.ok);
    expect(Object.keys(result.hosts)).toEqual(["pi1", "pi2"]);
    for (const host of ["pi1", "pi2"]) {
      healthy(result, host);
      expect(result.hosts[host]?.changed, host).toBeGreaterThan(0);
    }
  });

  it("under --check, a fleet gaining an unconfigured node previews its join and labels, fails for nothing and changes nothing", async () => {
    const before = await swarmNodes();
    expect(before.map((l) => l.split(" ")[0])).toEqual(["pi1", "pi2"]);
    await markNodes(["pi1", "pi2", "pi3"]);
    const result = await configure({ fleet, workDir: workDir(), check: true, diff: true });
    log(`check of the fleet gaining pi3: ${seconds(result)}`);
    expect(result.failures).toEqual([]);
    expect(result.exitCode).toBe(ExitCode.ok);
    expect(result.ignored.filter((f) => f.task.startsWith("swarm : "))).toEqual([]);
    // pi1 is in the Swarm with the labels it keeps; pi3's join shows, and pi2's new redis label (fleetWithout
    // left Redis on pi1 alone).
    expect(swarmChanges(result)).toEqual([`pi3: ${PREVIEW}`, "pi1: swarm : Ensure each member has its fleet role and labels."]);
    expect(await swarmNodes()).toEqual(before);
    expect(await hasDocker("pi3")).toBe(false);
    for (const name of ["pi1", "pi2", "pi3"]) expect(await writtenSince(name), name).toBe("");
  });

  it("converges the fleet gaining pi3: every host ok, pi3 joins the Swarm", async () => {
    const result = await configure({ fleet, workDir: workDir() });
    log(`converge with pi3: ${seconds(result)}`);
    await loginAgain();
    expect(result.failures).toEqual([]);
    expect(result.exitCode).toBe(ExitCode.ok);
    expect(Object.keys(result.hosts)).toEqual(["pi1", "pi2", "pi3"]);
    for (const host of ["pi1", "pi2", "pi3"]) healthy(result, host);
    expect(result.hosts.pi3?.changed).toBeGreaterThan(0);
    expect(swarmChanges(result)).toEqual([
      "pi3: swarm : Ensure every member has joined the Swarm.",
      "pi1: swarm : Ensure each member has its fleet role and labels.",
    ]);
  });

  it("forms the Swarm with the fleet's managers, workers and labels, inside 198.18.0.0/15", async () => {
    const nodes = await sshRun(
      node("pi1"),
      "docker node inspect pi1 pi2 pi3 --format '{{.Description.Hostname}} {{.Spec.Role}} {{.Status.State}} {{json .Spec.Labels}}'",
    );
    const byName = Object.fromEntries(
      nodes
        .trim()
        .split("\n")
        .map((l) => {
          const [name, role, state, labels] = l.split(" ");
          return [name, { role, state, labels: JSON.parse(labels ?? "{}") }];
        }),
    );
    expect(byName.pi1).toEqual({
      role: "manager",
      state: "ready",
      labels: {
        "pifleet.app": "true",
        "pifleet.arch": "amd64",
        "pifleet.lb": "true",
        "pifleet.redis": "true",
        "pifleet.registry": "true",
        "pifleet.runner": "true",
      },
    });
    // The sim's layout: three managers, load balancers on pi1-pi2, Redis on pi1-pi3.
    expect(byName.pi2).toEqual({
      role: "manager",
      state: "ready",
      labels: { "pifleet.app": "true", "pifleet.arch": "amd64", "pifleet.lb": "true", "pifleet.redis": "true", "pifleet.runner": "true" },
    });
    expect(byName.pi3).toEqual({
      role: "manager",
      state: "ready",
      labels: { "pifleet.app": "true", "pifleet.arch": "amd64", "pifleet.redis": "true", "pifleet.runner": "true" },
    });
    const subnets = await sshRun(
      node("pi2"),
      "docker network inspect -f '{{.Name}} {{range .IPAM.Config}}{{.Subnet}}{{end}}' bridge docker_gwbridge ingress",
    );
    expect(subnets.trim().split("\n")).toEqual(["bridge 198.18.100.0/24", "docker_gwbridge 198.18.128.0/24", "ingress 198.18.192.0/24"]);
  });

  it("lets the SSH user run a container on every node and reach the cluster registry", async () => {
    // No registry is reachable here, so the probe image is /usr/bin/true and its libraries from the node itself.
    const probe =
      "set -e; docker image inspect pifleet-probe >/dev/null 2>&1 || " +
      "sudo tar -C / -ch usr/bin/true lib64/ld-linux-x86-64.so.2 usr/lib/x86_64-linux-gnu/libc.so.6 | docker import - pifleet-probe >/dev/null; " +
      "docker run --rm pifleet-probe /usr/bin/true && echo ran";
    for (const name of ["pi1", "pi2", "pi3"]) expect(await sshRun(node(name), probe), name).toBe("ran\n");
    const registry = `${node("pi1").address}:5000`;
    expect(await sshRun(node("pi3"), `curl -sf http://${registry}/v2/_catalog`)).toBe('{"repositories":[]}\n');
    expect(JSON.parse(await sshRun(node("pi3"), "cat /etc/docker/daemon.json"))["insecure-registries"]).toEqual([registry]);
  });

  it("applies the OS, Pi and runner settings, recording the Pi reboot instead of rebooting", async () => {
    const out = await sshRun(
      node("pi2"),
      [
        "cat /boot/firmware/cmdline.txt",
        "grep -E '^(gpu_mem|dtparam=poe_fan_temp)' /boot/firmware/config.txt",
        "cat /var/run/reboot-required",
        "sudo sshd -T | grep -E '^(permitrootlogin|passwordauthentication) '",
        "grep -c pi3 /etc/hosts",
        "sudo stat -c '%a %U' /etc/gitlab-runner",
        "grep -E '^(KillSignal|KillMode|TimeoutStopSec)=' /etc/systemd/system/gitlab-runner.service.d/50-pifleet.conf",
        "test ! -e /etc/gitlab-runner/config.toml && echo no-config-toml",
      ].join("; "),
    );
    const lines = out.trim().split("\n");
    expect(lines[0]).toMatch(/ cgroup_enable=cpuset cgroup_enable=memory cgroup_memory=1$/);
    expect(lines.slice(1, 6)).toEqual([
      "gpu_mem=16",
      "dtparam=poe_fan_temp0=50000",
      "dtparam=poe_fan_temp1=60000",
      "dtparam=poe_fan_temp2=67500",
      "dtparam=poe_fan_temp3=75000",
    ]);
    expect(lines[6]).toContain("System restart required");
    expect(lines.slice(7)).toEqual([
      "permitrootlogin no",
      "passwordauthentication no",
      "1",
      "700 root",
      "KillSignal=SIGQUIT",
      // SIGQUIT to gitlab-runner alone: with systemd's default KillMode it would reach shell-executor jobs too.
      "KillMode=mixed",
      "TimeoutStopSec=7200",
      "no-config-toml",
    ]);
  });

  it("Redis and its sentinels answer only with the fleet's password, the same file on every redis node", async () => {
    const expected = [NOAUTH, "PONG", NOAUTH, "PONG"];
    for (const name of REDIS_NODES) expect(await pings(name, node(name).address), name).toEqual({ local: expected, fromPi1: expected });
    const files = await Promise.all(
      REDIS_NODES.map((n) =>
        sshRun(node(n), `sudo sh -c 'stat -c "%a %U:%G %s" ${REDIS_PASSWORD_FILE}; sha256sum < ${REDIS_PASSWORD_FILE}'`),
      ),
    );
    expect(new Set(files).size).toBe(1);
    expect(files[0]?.split("\n")[0]).toBe("640 root:redis 41");
    await expectRedisReplicatingWithPassword();
  });

  it("changes nothing on a second run", async () => {
    const result = await configure({ fleet, workDir: workDir() });
    log(`idempotent re-run: ${(result.durationMs / 1000).toFixed(1)}s`);
    expect(result.changes.map((c) => `${c.host}: ${c.task}`)).toEqual([]);
    for (const host of ["pi1", "pi2", "pi3"]) {
      healthy(result, host);
      expect(result.hosts[host]?.changed, host).toBe(0);
    }
  });

  it("under --check --diff reports exactly a changed fleet variable and leaves the nodes alone", async () => {
    const changedFile = join(dir, "sim", "fleet-changed.yaml");
    const text = await readFile(sim.fleetFile, "utf8");
    await writeFile(changedFile, text.replace(/^docker:\n/m, "docker:\n  logMaxSize: 20m\n"));
    const changed = (await loadFleetFile(changedFile)).fleet;
    expect(changed.docker.logMaxSize).toBe("20m");
    const result = await configure({ fleet: changed, workDir: workDir(), check: true, diff: true });
    expect(result.exitCode).toBe(ExitCode.ok);
    for (const host of ["pi1", "pi2", "pi3"]) {
      const tasks = result.changes.filter((c) => c.host === host);
      // The one file the variable feeds, and the restart it would record for the rolling restart.
      expect(
        tasks.map((t) => t.task),
        host,
      ).toEqual([
        "docker : Ensure daemon.json has log rotation, address pools and the cluster registry.",
        "docker : Record that the engine needs a restart",
      ]);
      const diff = tasks[0]?.diffs[0];
      expect(diff?.header).toBe("/etc/docker/daemon.json");
      expect(diff?.before).toContain('"max-size": "10m"');
      expect(diff?.after).toBe(diff?.before?.replace('"max-size": "10m"', '"max-size": "20m"'));
    }
    for (const name of ["pi1", "pi2", "pi3"])
      expect(JSON.parse(await sshRun(node(name), "cat /etc/docker/daemon.json"))["log-opts"]["max-size"]).toBe("10m");
  });

  it("a changed Redis setting restarts no redis-server in use: each records the restart for pifleet upgrade", async () => {
    const changedFile = join(dir, "sim", "fleet-redis-rdb.yaml");
    const input = parse(await readFile(sim.fleetFile, "utf8")) as FleetInput & { app: { redis: { persistence?: string } } };
    expect(input.app.redis.persistence ?? "aof").toBe("aof");
    input.app.redis.persistence = "rdb";
    await writeFile(changedFile, stringify(input));
    const changed = (await loadFleetFile(changedFile)).fleet;
    expect(changed.app?.redis.persistence).toBe("rdb");
    const state = async () =>
      Promise.all(
        ["pi1", "pi2", "pi3"].map(async (name) => {
          const out = await sshRun(
            node(name),
            `${authedRedisCli("-p 6379 ROLE")} | head -1; systemctl show -p MainPID --value redis-server; test -e /var/run/pifleet-redis-restart-required && echo marked || echo clean`,
          );
          const [role, pid, marker] = out.trim().split("\n");
          return { name, role, pid, marker };
        }),
      );
    const before = await state();
    expect(before.map((n) => n.role).sort()).toEqual(["master", "slave", "slave"]);
    const result = await configure({ fleet: changed, workDir: workDir(), tags: ["redis"] });
    log(`redis setting change: ${seconds(result)}`);
    expect(result.failures).toEqual([]);
    expect(await state()).toEqual(before.map((n) => ({ ...n, marker: "marked" })));
    expect(await sshRun(node("pi2"), "sudo grep -c '^appendonly no' /etc/redis/redis.conf")).toBe("1\n");
  });

  it("a Redis in use without a password gains it at runtime: --check shows it, then no restart, no key lost", async () => {
    const primaryAddress = await redisPrimaryAddress();
    const primary = sim.nodes.find((n) => n.address === primaryAddress)?.name ?? `no node at ${primaryAddress}`;
    await sshRun(node(primary), authedRedisCli("-p 6379 SET pifleet:itest 42"));
    // Back to a fleet from before the password: no password anywhere, no credentials, no files.
    for (const name of REDIS_NODES)
      await sshRun(
        node(name),
        [
          '-p 6379 CONFIG SET requirepass ""',
          "-p 6379 CONFIG SET protected-mode no",
          '-p 6379 CONFIG SET masteruser ""',
          '-p 6379 CONFIG SET masterauth ""',
          "-p 26379 ACL SETUSER default nopass",
          '-p 26379 SENTINEL SET pifleet auth-user ""',
          '-p 26379 SENTINEL SET pifleet auth-pass ""',
          '-p 26379 SENTINEL CONFIG SET sentinel-user ""',
          '-p 26379 SENTINEL CONFIG SET sentinel-pass ""',
          "-p 26379 SENTINEL FLUSHCONFIG",
        ]
          .map((args) => `${authedRedisCli(args)} >/dev/null`)
          .concat(`sudo rm ${REDIS_PASSWORD_FILE} /etc/redis/pifleet-auth.conf`)
          .join(" && "),
      );
    const open = ["PONG", "PONG", "PONG", "PONG"];
    for (const name of REDIS_NODES) expect(await pings(name, node(name).address), name).toEqual({ local: open, fromPi1: open });
    const pids = await Promise.all(REDIS_NODES.map(redisPids));

    const check = await configure({ fleet, workDir: workDir(), tags: ["redis"], check: true });
    expect(check.failures).toEqual([]);
    const authSteps = (r: PlaybookResult) => r.changes.filter((c) => /password/.test(c.task)).map((c) => `${c.host}: ${c.task}`);
    log(`--check of a fleet without the password: ${authSteps(check).length} password steps would change`);
    for (const name of REDIS_NODES) {
      expect(authSteps(check), name).toEqual(
        expect.arrayContaining([
          `${name}: redis : Ensure redis-server and the sentinel log in to the others with the fleet's password.`,
          `${name}: redis : Ensure redis-server and the sentinel require the fleet's password.`,
        ]),
      );
      expect(await pings(name, node(name).address), name).toEqual({ local: open, fromPi1: open });
    }

    const started = Date.now();
    const result = await configure({ fleet, workDir: workDir(), tags: ["redis"] });
    log(`password added to a Redis in use: ${seconds(result)}`);
    expect(result.failures).toEqual([]);
    const expected = [NOAUTH, "PONG", NOAUTH, "PONG"];
    for (const name of REDIS_NODES) {
      expect(await pings(name, node(name).address), name).toEqual({ local: expected, fromPi1: expected });
      expect((await sshRun(node(name), authedRedisCli("-p 6379 GET pifleet:itest"))).trim(), name).toBe("42");
    }
    expect(await Promise.all(REDIS_NODES.map(redisPids))).toEqual(pids);
    expect(await redisPrimaryAddress()).toBe(primaryAddress);
    await expectRedisReplicatingWithPassword();
    log(`migration checked ${((Date.now() - started) / 1000).toFixed(1)}s after the converge began`);

    const again = await configure({ fleet, workDir: workDir(), tags: ["redis"] });
    expect(again.failures).toEqual([]);
    expect(again.changes.map((c) => `${c.host}: ${c.task}`)).toEqual([]);
  });

  it("reports a stopped node unreachable, converges the others, and exits 1", async () => {
    await simFault(join(dir, "sim"), "pi3", "stop");
    try {
      const result = await configure({ fleet, workDir: workDir() });
      expect(result.hosts.pi3?.unreachable).toBeGreaterThan(0);
      expect(result.failures.filter((f) => f.host === "pi3").map((f) => f.status)).toEqual(["unreachable"]);
      healthy(result, "pi1");
      healthy(result, "pi2");
      expect(result.hosts.pi1?.ok).toBeGreaterThan(20);
      expect(result.exitCode).toBe(ExitCode.failed);
      expect(result.ansibleExitCode).toBe(4);
    } finally {
      await simFault(join(dir, "sim"), "pi3", "start");
    }
  });

  it("drains and removes a node that left the fleet from the Swarm", async () => {
    const smaller = await fleetWithout("pi3");
    expect(smaller.nodes.map((n) => n.name)).toEqual(["pi1", "pi2"]);
    const result = await configure({ fleet: smaller, workDir: workDir(), tags: ["swarm"] });
    expect(result.failures).toEqual([]);
    expect(result.changes.map((c) => `${c.host}: ${c.task}`)).toEqual([
      // pi2 loses the redis role with pi3 (fleetWithout): its labels change.
      "pi1: swarm : Ensure each member has its fleet role and labels.",
      "pi1: swarm : Ensure departed nodes are drained and demoted so their tasks move elsewhere.",
      "pi1: swarm : Ensure departed nodes are removed from the Swarm.",
    ]);
    expect((await sshRun(node("pi1"), "docker node ls --format '{{.Hostname}}'")).trim().split("\n").sort()).toEqual(["pi1", "pi2"]);
  });
});
