import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ExitCode, type Fleet, loadFleetFile } from "@pifleet/fleet";
import { type NodeShell, type SshTarget, sshShell } from "@pifleet/io";
import { type SimStatus, simDown, simFault, simUp } from "@pifleet/sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configure } from "./configure.js";
import { closeSshMasters } from "./run-dir.js";
import type { PlaybookResult } from "./run-playbook.js";

// A real 3-node sim (systemd, sshd, nested Docker), the real site.yml over SSH with pinned host keys.
// The tests run in order: converge, inspect, re-run, check a change, then a node down.
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
const log = (message: string) => process.stderr.write(`[ansible itest] ${message}\n`);
const healthy = (r: PlaybookResult, host: string) => expect(r.hosts[host], host).toMatchObject({ failed: 0, unreachable: 0 });

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
  it("converges fresh nodes: every host ok", async () => {
    const result = await configure({ fleet, workDir: workDir() });
    log(`fresh converge: ${(result.durationMs / 1000).toFixed(1)}s`);
    expect(result.failures).toEqual([]);
    expect(result.exitCode).toBe(ExitCode.ok);
    expect(Object.keys(result.hosts)).toEqual(["pi1", "pi2", "pi3"]);
    for (const host of ["pi1", "pi2", "pi3"]) {
      healthy(result, host);
      expect(result.hosts[host]?.changed, host).toBeGreaterThan(0);
    }
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
    for (const name of ["pi2", "pi3"])
      expect(byName[name]).toEqual({
        role: "worker",
        state: "ready",
        labels: { "pifleet.app": "true", "pifleet.arch": "amd64", "pifleet.runner": "true" },
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
      // The one file the variable feeds, and the restart it would trigger.
      expect(
        tasks.map((t) => t.task),
        host,
      ).toEqual(["docker : Ensure daemon.json has log rotation, address pools and the cluster registry.", "docker : Restart docker"]);
      const diff = tasks[0]?.diffs[0];
      expect(diff?.header).toBe("/etc/docker/daemon.json");
      expect(diff?.before).toContain('"max-size": "10m"');
      expect(diff?.after).toBe(diff?.before?.replace('"max-size": "10m"', '"max-size": "20m"'));
    }
    for (const name of ["pi1", "pi2", "pi3"])
      expect(JSON.parse(await sshRun(node(name), "cat /etc/docker/daemon.json"))["log-opts"]["max-size"]).toBe("10m");
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
    const text = await readFile(sim.fleetFile, "utf8");
    const withoutPi3 = join(dir, "sim", "fleet-without-pi3.yaml");
    // Cut pi3's entry (from its "- name" line to the next top-level key) out of the nodes list.
    await writeFile(withoutPi3, text.replace(/^ {2}- name: pi3\n(?: {4}.*\n)+/m, ""));
    const smaller = (await loadFleetFile(withoutPi3)).fleet;
    expect(smaller.nodes.map((n) => n.name)).toEqual(["pi1", "pi2"]);
    const result = await configure({ fleet: smaller, workDir: workDir(), tags: ["swarm"] });
    expect(result.failures).toEqual([]);
    expect(result.changes.map((c) => `${c.host}: ${c.task}`)).toEqual([
      "pi1: swarm : Ensure departed nodes are drained and demoted so their tasks move elsewhere.",
      "pi1: swarm : Ensure departed nodes are removed from the Swarm.",
    ]);
    expect((await sshRun(node("pi1"), "docker node ls --format '{{.Hostname}}'")).trim().split("\n").sort()).toEqual(["pi1", "pi2"]);
  });
});
