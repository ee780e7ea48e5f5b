import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadFleetFile } from "@pifleet/fleet";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SimStatus, simControlHeaders, simDown, simFault, simStatus, simUp } from "./index.js";
import { docker } from "./sim-docker.js";
import { pinnedKey, sshLogin, sshRun } from "./test-support/ssh.js";

// The real sim: two amd64 nodes on their own network, SSH with pinned host keys, faults, down.
let dir = "";
let sim: SimStatus;
const node = (name: string) => {
  const n = sim.nodes.find((x) => x.name === name);
  if (!n) throw new Error(`no ${name}`);
  return n;
};

/** Polls until sshd on address accepts our key again (after a start or heal). */
async function sshComesBack(address: string, timeoutMs = 90_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await sshRun(sim, address, "hostname");
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "pifleet-sim-itest-"));
  sim = await simUp({ dir, nodes: 2, progress: (m) => process.stderr.write(`sim: ${m}\n`) });
});

afterAll(async () => {
  if (dir) await simDown(dir);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("sim up", () => {
  it("reaches every node over SSH as pi, accepting only the pinned host key", async () => {
    for (const n of sim.nodes) {
      expect(await sshRun(sim, n.address, "hostname")).toBe(n.name);
      expect(await sshRun(sim, n.address, "sudo -n id -u")).toBe("0");
    }
  });

  it("rejects a node whose host key does not match the pin", async () => {
    const wrong = join(dir, "wrong_known_hosts");
    await writeFile(wrong, `${node("pi1").address} ssh-ed25519 ${await pinnedKey(sim.knownHosts, node("pi2").address)}\n`);
    await expect(sshLogin(sim, node("pi1").address, { knownHosts: wrong })).rejects.toThrow();
  });

  it("writes a fleet file that validates and names the nodes at their addresses", async () => {
    const { fleet } = await loadFleetFile(sim.fleetFile);
    expect(fleet.nodes.map((n) => [n.name, n.address])).toEqual(sim.nodes.map((n) => [n.name, n.address]));
    expect(fleet.ssh.privateKey).toBe(sim.sshKey);
    expect(fleet.ssh.knownHosts).toBe(sim.knownHosts);
    expect(fleet.gitlab.url).toBe(sim.gitlab?.url);
  });

  it("answers GitLab API calls with the token from status", async () => {
    const res = await fetch(`${sim.gitlab?.url}/api/v4/user`, { headers: { "PRIVATE-TOKEN": sim.gitlab?.token ?? "" } });
    expect(res.status).toBe(200);
    expect(sim.gitlab?.running).toBe(true);
  });

  it("opens the emulator's control API to this machine's sim owner only: a node reaching it gets 401", async () => {
    const gitlab = sim.gitlab;
    if (!gitlab) throw new Error("sim started without its GitLab emulator");
    expect((await fetch(`${gitlab.url}/-/sim/info`, { headers: simControlHeaders(gitlab) })).status).toBe(200);
    // What a CI job on the node could try: it reaches the gateway (the API answers), not the secret file.
    // Each answer as "status:<does it name the control header>".
    const probe = [
      `URL = "${gitlab.url}"`,
      "import urllib.request, urllib.error",
      "def answer(path, headers):",
      "    try: r = urllib.request.urlopen(urllib.request.Request(URL + path, headers=headers)); return f'{r.status}:-'",
      "    except urllib.error.HTTPError as e: return f'{e.code}:{\"X-Pifleet-Sim-Control\" in e.read().decode()}'",
      'print(answer("/api/v4/version", {}), answer("/-/sim/info", {}), answer("/-/sim/info", {"X-Pifleet-Sim-Control": "0" * 64}))',
    ].join("\n");
    const out = await sshRun(sim, node("pi1").address, `python3 - <<'EOF'\n${probe}\nEOF`);
    // The node reaches the emulator (GitLab's own 401 for a call without a token), and the control API refuses it.
    expect(out).toBe("401:False 401:True 401:True");
  });

  it("boots Pi-like nodes: systemd PID 1, 2 GiB, Pi files, apt proxy, and no docker/redis/runner yet", async () => {
    const out = await sshRun(
      sim,
      node("pi1").address,
      [
        "ps -p 1 -o comm=",
        "awk '/MemTotal/ {print $2}' /proc/meminfo",
        "cat /etc/pifleet-sim-pi",
        "test -s /boot/firmware/cmdline.txt && grep -c arm_64bit=1 /boot/firmware/config.txt",
        "apt-config shell PROXY Acquire::http::Proxy",
        "for c in docker redis-server gitlab-runner; do command -v $c || echo no-$c; done",
      ].join("; "),
    );
    expect(out.split("\n")).toEqual([
      "systemd",
      "2097152",
      "Raspberry Pi 4 Model B Rev 1.4",
      "1",
      `PROXY='${sim.aptProxy}'`,
      "no-docker",
      "no-redis-server",
      "no-gitlab-runner",
    ]);
  });

  it("runs the runner stand-in as gitlab-runner.service: a runner in config.toml is contacted, so GitLab shows it online", async () => {
    expect(sim.runnerService).toBe("stand-in");
    const gitlab = sim.gitlab;
    if (!gitlab) throw new Error("sim started without its GitLab emulator");
    const api = (path: string, init: RequestInit = {}) =>
      fetch(`${gitlab.url}/api/v4${path}`, {
        ...init,
        headers: { "content-type": "application/json", "PRIVATE-TOKEN": gitlab.token },
      });
    const created = (await (
      await api("/user/runners", {
        method: "POST",
        body: JSON.stringify({ runner_type: "project_type", project_id: gitlab.projectId, description: "standin-itest" }),
      })
    ).json()) as { id: number; token: string };
    const config = `check_interval = 1\n[[runners]]\n  name = "standin-itest"\n  url = "${gitlab.url}"\n  id = ${created.id}\n  token = "${created.token}"\n  executor = "shell"\n`;
    const pi1 = node("pi1").address;
    expect(await sshRun(sim, pi1, "systemctl is-active gitlab-runner")).toBe("active");
    await sshRun(
      sim,
      pi1,
      `sudo -n sh -c 'umask 077 && mkdir -p /etc/gitlab-runner && cat > /etc/gitlab-runner/config.toml' <<'EOF'\n${config}EOF`,
    );
    await expect
      .poll(async () => ((await (await api(`/runners/${created.id}`)).json()) as { status: string }).status, {
        timeout: 20_000,
        interval: 500,
      })
      .toBe("online");
  });

  it("run again on the same dir, starts what was stopped (a node, the emulator) and returns the sim", async () => {
    await simFault(dir, "pi2", "stop");
    process.kill(Number(await readFile(join(dir, "gitlab.pid"), "utf8")), "SIGTERM");
    await expect.poll(async () => (await simStatus(dir)).gitlab?.running).toBe(false);
    const again = await simUp({ dir, nodes: 2 });
    expect(again.nodes).toEqual(sim.nodes);
    expect(again.gitlab?.running).toBe(true);
    const { fleet } = await loadFleetFile(again.fleetFile);
    expect(fleet.gitlab.url).toBe(again.gitlab?.url);
    const res = await fetch(`${again.gitlab?.url}/api/v4/user`, { headers: { "PRIVATE-TOKEN": again.gitlab?.token ?? "" } });
    expect(res.status).toBe(200);
    // The restarted emulator made a new control secret; its file gives it.
    expect((await fetch(`${again.gitlab?.url}/-/sim/info`, { headers: simControlHeaders(again.gitlab) })).status).toBe(200);
    expect(await sshComesBack(node("pi2").address)).toBe("pi2");
    sim = again;
  });
});

describe("sim fault", () => {
  it("partition cuts a running node off the cluster network; heal restores it at the same address", async () => {
    const pi2 = node("pi2");
    expect((await simFault(dir, "pi2", "partition")).state).toBe("partitioned");
    await expect(sshLogin(sim, pi2.address, { connectTimeoutSec: 3 })).rejects.toThrow();
    await expect(sshRun(sim, node("pi1").address, `ping -c 1 -W 2 ${pi2.address}`)).rejects.toThrow(/exited 1/);
    const healed = await simFault(dir, "pi2", "heal");
    expect(healed).toMatchObject({ state: "running", address: pi2.address });
    expect(await sshComesBack(pi2.address)).toBe("pi2");
    expect(await sshRun(sim, node("pi1").address, "ping -c 1 -W 2 pi2 >/dev/null && echo ok")).toBe("ok");
  });

  it("stop makes a node unreachable and start brings it back", async () => {
    const pi2 = node("pi2");
    expect((await simFault(dir, "pi2", "stop")).state).toBe("stopped");
    await expect(sshLogin(sim, pi2.address, { connectTimeoutSec: 3 })).rejects.toThrow();
    expect((await simFault(dir, "pi2", "start")).state).toBe("running");
    expect(await sshComesBack(pi2.address)).toBe("pi2");
  });

  it("pause freezes a node and unpause resumes it", async () => {
    expect((await simFault(dir, "pi2", "pause")).state).toBe("paused");
    await expect(sshLogin(sim, node("pi2").address, { connectTimeoutSec: 3 })).rejects.toThrow();
    expect((await simFault(dir, "pi2", "unpause")).state).toBe("running");
    expect(await sshComesBack(node("pi2").address)).toBe("pi2");
  });

  it("rejects an unknown node with the node list", async () => {
    await expect(simFault(dir, "pi9", "stop")).rejects.toThrow('no node "pi9"');
  });
});

describe("sim down", () => {
  it("removes every container, network and volume carrying the sim's label, and its files", async () => {
    const result = await simDown(dir);
    expect(result.removed).toEqual({ containers: 2, networks: 1, volumes: 2 });
    const label = `label=pifleet.sim=${sim.instance}`;
    expect(await docker(["ps", "-a", "-q", "--filter", label])).toBe("");
    expect(await docker(["network", "ls", "-q", "--filter", label])).toBe("");
    expect(await docker(["volume", "ls", "-q", "--filter", label])).toBe("");
    await expect(simStatus(dir)).rejects.toThrow("no simulated fleet in");
  });
});
