import { execFile } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { manualClock, recordingShell, type ShellCall } from "@pifleet/io";
import { describe, expect, it } from "vitest";
import { testFleet } from "../test-support/fleets.js";
import {
  describeHandOff,
  handOffRedisPrimary,
  parseHandOffOutput,
  parseMasterAddress,
  parseReplicationInfo,
  redisHandOffScript,
  redisPrimary,
} from "./redis-failover.js";

const fleet = testFleet({ redisNodes: ["pi1", "pi2", "pi3"] });
const address = (node: string) => `198.19.7.${10 + Number(node.slice(2))}`;
const replicaInfo = (master: string, link = "up", syncing = "0") =>
  `# Replication\r\nrole:slave\r\nmaster_host:${master}\r\nmaster_port:6379\r\nmaster_link_status:${link}\r\nmaster_sync_in_progress:${syncing}\r\n`;
const isSentinelAsk = (c: ShellCall) => c.argv?.includes("get-master-addr-by-name") === true;
const redisCommands = (calls: ShellCall[]) =>
  calls.filter((c) => c.node === "pi1" && !isSentinelAsk(c)).map((c) => c.script ?? c.argv?.slice(6).join(" "));
const SCRIPT_SAID = "at caught-up 4\nat failover-sent 9\nat promoted 212\nat following 220\nprimary 198.19.7.12 6379\n";

describe("parsing redis-cli", () => {
  it("reads a replica's primary and whether it is synced, and a primary's role", () => {
    expect(parseReplicationInfo(replicaInfo("198.19.7.12"))).toEqual({ role: "slave", masterHost: "198.19.7.12", synced: true });
    expect(parseReplicationInfo(replicaInfo("198.19.7.12", "down")).synced).toBe(false);
    expect(parseReplicationInfo(replicaInfo("198.19.7.12", "up", "1")).synced).toBe(false);
    expect(parseReplicationInfo("# Replication\nrole:master\nconnected_slaves:2\n")).toEqual({ role: "master", synced: false });
    expect(() => parseReplicationInfo("")).toThrow(/no role line/);
  });

  it("reads the sentinel's answer: the address, or nothing when it knows no primary", () => {
    expect(parseMasterAddress("198.19.7.11\n6379\n")).toBe("198.19.7.11");
    expect(parseMasterAddress("\n")).toBeUndefined();
  });
});

describe("redisPrimary", () => {
  it("asks the sentinels in turn and maps the address to the fleet's node", async () => {
    const shell = recordingShell((c) => (c.node === "pi1" ? { code: 1, stderr: "Could not connect" } : `${address("pi3")}\n6379\n`));
    expect((await redisPrimary({ fleet, shell })).name).toBe("pi3");
    expect(shell.calls.map((c) => c.node)).toEqual(["pi1", "pi2"]);
    // As root, with the fleet's password from its file in the environment: never on the argv.
    expect(shell.calls[1]).toMatchObject({ root: true });
    expect(shell.calls[1]?.argv).toEqual([
      "sh",
      "-c",
      'REDISCLI_AUTH="$(cat /etc/redis/pifleet-password 2>/dev/null)" exec redis-cli --user default "$@"',
      "redis-cli",
      "-p",
      "26379",
      "SENTINEL",
      "get-master-addr-by-name",
      "pifleet",
    ]);
  });

  it("says which sentinel answered what when none names a redis node", async () => {
    const shell = recordingShell((c) => (c.node === "pi2" ? "10.9.9.9\n6379\n" : "\n"));
    await expect(redisPrimary({ fleet, shell })).rejects.toThrow(
      "no sentinel named the Redis primary (pi1: knows no primary; pi2: names 10.9.9.9, not a redis node; pi3: knows no primary)",
    );
  });
});

describe("the node-side hand-off script", () => {
  const script = redisHandOffScript({
    redisPort: 6379,
    sentinelPort: 26379,
    masterName: "pifleet",
    others: [
      { host: "198.19.7.12", port: 6379 },
      { host: "198.19.7.13", port: 6379 },
    ],
    timeoutMs: 20_000,
  });

  it("is valid POSIX sh (dash, the Pi's /bin/sh, parses it)", async () => {
    await expect(promisify(execFile)("sh", ["-n", "-c", script])).resolves.toBeDefined();
  });

  it("lets writes go on every way out, and holds them at most 30 s even if that fails", () => {
    expect(script).toMatch(/^trap 'rcli 127\.0\.0\.1 6379 CLIENT UNPAUSE >\/dev\/null 2>&1' EXIT$/m);
    expect(script).toMatch(/^trap 'exit 1' HUP INT TERM$/m);
    expect(script.indexOf("trap 'rcli")).toBeLessThan(script.indexOf("CLIENT PAUSE 30000 WRITE"));
  });

  it("fails over through the local sentinel and asks each other redis node whether it was promoted, in that order", () => {
    expect(script).toContain("rcli 127.0.0.1 26379 SENTINEL FAILOVER pifleet");
    expect(script).toMatch(/NOGOODSLAVE\*\) .* exit 75 ;;/);
    const asked = [...script.matchAll(/is_promoted (\S+) (\d+) &&/g)].map((m) => `${m[1]}:${m[2]}`);
    expect(asked).toEqual(["198.19.7.12:6379", "198.19.7.13:6379"]);
    expect(script.indexOf("REPLICAOF $new")).toBeLessThan(script.lastIndexOf("CLIENT UNPAUSE"));
  });

  it("names the replica the sentinel promoted, not a node that merely restarted as a primary of nothing", async () => {
    // redis-cli is a stand-in on PATH: 198.19.7.12 just rebooted (a primary with a new replication id of its
    // own), 198.19.7.13 is the caught-up replica the sentinel promotes once SENTINEL FAILOVER is sent.
    const dir = await mkdtemp(join(tmpdir(), "handoff-"));
    const stub = `#!/bin/sh
while [ "$1" = --user ] || [ "$1" = -h ] || [ "$1" = -p ]; do eval "opt_$(echo "$1" | tr -d -)=\\$2"; shift 2; done
at="$opt_h:$opt_p"; failed_over=${dir}/failed-over
case "$at $*" in
  "127.0.0.1:6379 INFO replication") printf 'role:master\\nmaster_replid:aaa\\nmaster_repl_offset:100\\nslave0:ip=198.19.7.13,port=6379,state=online,offset=100,lag=0\\n' ;;
  "127.0.0.1:26379 SENTINEL FAILOVER pifleet") touch "$failed_over"; echo OK ;;
  "198.19.7.12:6379 INFO replication") printf 'role:master\\nmaster_replid:zzz\\nmaster_replid2:0000000000000000000000000000000000000000\\n' ;;
  "198.19.7.13:6379 INFO replication")
    if [ -e "$failed_over" ]; then printf 'role:master\\nmaster_replid:bbb\\nmaster_replid2:aaa\\n'; else printf 'role:slave\\nslave_repl_offset:100\\n'; fi ;;
  *) echo OK ;;
esac
`;
    await writeFile(join(dir, "redis-cli"), stub, { mode: 0o755 });
    const { stdout } = await promisify(execFile)("sh", ["-c", script], { env: { PATH: `${dir}:${process.env.PATH}`, HOME: dir } });
    expect(parseHandOffOutput(stdout).primary).toEqual({ host: "198.19.7.13", port: 6379 });
  });

  it("reads what the script printed: the new primary and its steps", () => {
    const out = parseHandOffOutput(SCRIPT_SAID);
    expect(out.primary).toEqual({ host: "198.19.7.12", port: 6379 });
    expect(describeHandOff(out)).toBe("writes held 220 ms (caught up 4, failover sent 9, promoted 212, following 220)");
    expect(() => parseHandOffOutput("at caught-up 4\n")).toThrow(/named no new primary/);
  });
});

describe("handOffRedisPrimary", () => {
  it("does nothing when the node does not hold the primary", async () => {
    const shell = recordingShell(() => `${address("pi2")}\n6379\n`);
    expect(await handOffRedisPrimary("pi1", { fleet, shell, clock: manualClock() })).toMatchObject({
      moved: false,
      primary: { name: "pi2" },
    });
    expect(shell.calls.some((c) => c.script !== undefined)).toBe(false);
  });

  it("runs the hand-off script on the primary's node, then waits until it is a synced replica the sentinels agree on", async () => {
    let handedOff = false;
    let infos = 0;
    const shell = recordingShell((c) => {
      if (c.script !== undefined) {
        handedOff = true;
        return SCRIPT_SAID;
      }
      if (isSentinelAsk(c)) return `${address(handedOff && infos > 1 ? "pi2" : "pi1")}\n6379\n`;
      if (c.argv?.includes("INFO")) return infos++ === 0 ? replicaInfo(address("pi2"), "down") : replicaInfo(address("pi2"));
      return undefined;
    });
    const progress: string[] = [];
    const result = await handOffRedisPrimary("pi1", { fleet, shell, clock: manualClock(), progress: (m) => progress.push(m) });
    expect(result).toMatchObject({
      moved: true,
      primary: { name: "pi2" },
      detail: "writes held 220 ms (caught up 4, failover sent 9, promoted 212, following 220)",
    });
    const script = shell.calls.find((c) => c.script !== undefined);
    expect(script).toMatchObject({ node: "pi1", root: true });
    expect(script?.script).toContain('REDISCLI_AUTH="$(cat /etc/redis/pifleet-password 2>/dev/null)"\nexport REDISCLI_AUTH\n');
    expect(script?.script).toContain(`is_promoted ${address("pi3")} 6379`);
    expect(progress.at(-1)).toBe("Redis: pi2 is the primary; pi1 replicates it");
    expect(redisCommands(shell.calls).slice(1)).toEqual(["CLIENT UNPAUSE", "INFO replication", "INFO replication"]);
  });

  it("a failing script stops the hand-off with its reason, and writes are let go all the same", async () => {
    const shell = recordingShell((c) =>
      c.script !== undefined
        ? { code: 1, stderr: "the replicas did not catch up within 20 s" }
        : isSentinelAsk(c)
          ? `${address("pi1")}\n6379\n`
          : undefined,
    );
    await expect(handOffRedisPrimary("pi1", { fleet, shell, clock: manualClock() })).rejects.toThrow(
      "handing the Redis primary on pi1 to a replica failed (exit 1): the replicas did not catch up within 20 s",
    );
    expect(redisCommands(shell.calls).at(-1)).toBe("CLIENT UNPAUSE");
  });

  it("runs the script again a second later while the sentinel has no replica it may promote yet (NOGOODSLAVE), until the timeout", async () => {
    let runs = 0;
    const notYet = { code: 75, stderr: "the sentinel has no replica it may promote yet: NOGOODSLAVE No suitable replica to promote" };
    const shell = recordingShell((c) => {
      if (c.script !== undefined) return runs++ < 2 ? notYet : SCRIPT_SAID;
      if (isSentinelAsk(c)) return `${address(runs > 2 ? "pi2" : "pi1")}\n6379\n`;
      return c.argv?.includes("INFO") ? replicaInfo(address("pi2")) : undefined;
    });
    expect(await handOffRedisPrimary("pi1", { fleet, shell, clock: manualClock() })).toMatchObject({
      moved: true,
      primary: { name: "pi2" },
    });
    expect(runs).toBe(3);
    const always = recordingShell((c) => (c.script !== undefined ? notYet : isSentinelAsk(c) ? `${address("pi1")}\n6379\n` : undefined));
    await expect(handOffRedisPrimary("pi1", { fleet, shell: always, clock: manualClock(), timeoutMs: 5000 })).rejects.toThrow(
      /failed \(exit 75\): the sentinel has no replica it may promote yet/,
    );
    expect(always.calls.filter((c) => c.script !== undefined)).toHaveLength(6);
  });

  it("gives up after the timeout, saying where the hand-off stands", async () => {
    const shell = recordingShell((c) =>
      c.script !== undefined
        ? SCRIPT_SAID
        : isSentinelAsk(c)
          ? `${address("pi1")}\n6379\n`
          : c.argv?.includes("INFO")
            ? replicaInfo(address("pi2"), "down")
            : undefined,
    );
    await expect(handOffRedisPrimary("pi1", { fleet, shell, clock: manualClock(), timeoutMs: 5000 })).rejects.toThrow(
      `the Redis primary did not settle on pi2 within 5 s (the sentinels name pi1; pi1 is a replica of ${address("pi2")}, still syncing)`,
    );
  });
});
