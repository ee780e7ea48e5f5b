import { manualClock, recordingShell, type ShellCall } from "@pifleet/io";
import { describe, expect, it } from "vitest";
import { testFleet } from "../test-support/fleets.js";
import { handOffRedisPrimary, parseMasterAddress, parseReplicationInfo, redisPrimary, replicasCaughtUp } from "./redis-failover.js";

const fleet = testFleet({ redisNodes: ["pi1", "pi2", "pi3"] });
const address = (node: string) => `198.19.7.${10 + Number(node.slice(2))}`;
const replicaInfo = (master: string, link = "up", syncing = "0") =>
  `# Replication\r\nrole:slave\r\nmaster_host:${master}\r\nmaster_port:6379\r\nmaster_link_status:${link}\r\nmaster_sync_in_progress:${syncing}\r\n`;
const primaryInfo = (offset: number, ...replicaOffsets: number[]) =>
  [
    "# Replication",
    "role:master",
    `connected_slaves:${replicaOffsets.length}`,
    ...replicaOffsets.map((o, i) => `slave${i}:ip=198.19.7.${12 + i},port=6379,state=online,offset=${o},lag=0`),
    `master_repl_offset:${offset}`,
    "",
  ].join("\r\n");
const isSentinelAsk = (c: ShellCall) => c.argv?.includes("get-master-addr-by-name") === true;
const redisCommands = (calls: ShellCall[]) =>
  calls.filter((c) => c.node === "pi1" && !isSentinelAsk(c)).map((c) => c.argv?.slice(c.argv[1] === "-p" ? 3 : 1).join(" "));

describe("parsing redis-cli", () => {
  it("reads a replica's primary and whether it is synced, and a primary's role", () => {
    expect(parseReplicationInfo(replicaInfo("198.19.7.12"))).toEqual({ role: "slave", masterHost: "198.19.7.12", synced: true });
    expect(parseReplicationInfo(replicaInfo("198.19.7.12", "down")).synced).toBe(false);
    expect(parseReplicationInfo(replicaInfo("198.19.7.12", "up", "1")).synced).toBe(false);
    expect(parseReplicationInfo("# Replication\nrole:master\nconnected_slaves:2\n")).toEqual({ role: "master", synced: false });
    expect(() => parseReplicationInfo("")).toThrow(/no role line/);
  });

  it("says whether every replica has all the primary sent: none attached, one behind, all caught up", () => {
    expect(replicasCaughtUp(primaryInfo(500))).toBe(false);
    expect(replicasCaughtUp(primaryInfo(500, 500, 480))).toBe(false);
    expect(replicasCaughtUp(primaryInfo(500, 500, 500))).toBe(true);
    expect(replicasCaughtUp(replicaInfo("198.19.7.12"))).toBe(false);
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
    expect(shell.calls[1]?.argv).toEqual(["redis-cli", "-p", "26379", "SENTINEL", "get-master-addr-by-name", "pifleet"]);
  });

  it("says which sentinel answered what when none names a redis node", async () => {
    const shell = recordingShell((c) => (c.node === "pi2" ? "10.9.9.9\n6379\n" : "\n"));
    await expect(redisPrimary({ fleet, shell })).rejects.toThrow(
      "no sentinel named the Redis primary (pi1: knows no primary; pi2: names 10.9.9.9, not a redis node; pi3: knows no primary)",
    );
  });
});

describe("handOffRedisPrimary", () => {
  it("does nothing when the node does not hold the primary", async () => {
    const shell = recordingShell(() => `${address("pi2")}\n6379\n`);
    expect(await handOffRedisPrimary("pi1", { fleet, shell, clock: manualClock() })).toMatchObject({
      moved: false,
      primary: { name: "pi2" },
    });
    expect(shell.calls.some((c) => c.argv?.includes("FAILOVER"))).toBe(false);
  });

  it("holds writes until the replicas caught up, fails over, points the old primary at the new one, lets writes go, waits until it is synced", async () => {
    let failedOver = false;
    let polls = 0;
    let infos = 0;
    const shell = recordingShell((c) => {
      if (c.argv?.includes("FAILOVER")) failedOver = true;
      if (isSentinelAsk(c)) return `${address(failedOver && polls++ > 0 ? "pi2" : "pi1")}\n6379\n`;
      if (c.argv?.includes("INFO") && !failedOver) return infos++ === 0 ? primaryInfo(900, 900, 870) : primaryInfo(900, 900, 900);
      if (c.argv?.includes("INFO")) return polls < 3 ? replicaInfo(address("pi2"), "down") : replicaInfo(address("pi2"));
      return undefined;
    });
    const clock = manualClock();
    const progress: string[] = [];
    const result = await handOffRedisPrimary("pi1", { fleet, shell, clock, progress: (m) => progress.push(m) });
    expect(result).toMatchObject({ moved: true, primary: { name: "pi2" } });
    const failover = shell.calls.find((c) => c.argv?.includes("FAILOVER"));
    expect(failover).toMatchObject({ node: "pi1", argv: ["redis-cli", "-p", "26379", "SENTINEL", "FAILOVER", "pifleet"] });
    // The old primary is read until it is a connected replica, not just renamed by the sentinels.
    expect(shell.calls.filter((c) => c.node === "pi1" && c.argv?.includes("INFO")).length).toBeGreaterThan(1);
    expect(progress.at(-1)).toBe("Redis: pi2 is the primary; pi1 replicates it");
    expect(redisCommands(shell.calls)).toEqual([
      "CLIENT PAUSE 30000 WRITE",
      "INFO replication",
      "INFO replication",
      "SENTINEL FAILOVER pifleet",
      `REPLICAOF ${address("pi2")} 6379`,
      "CLIENT UNPAUSE",
      "INFO replication",
      "INFO replication",
      "CLIENT UNPAUSE",
    ]);
  });

  it("gives up after the timeout, saying where the failover stands, and never leaves writes held", async () => {
    const shell = recordingShell((c) =>
      isSentinelAsk(c) ? `${address("pi1")}\n6379\n` : c.argv?.includes("INFO") ? primaryInfo(7, 7, 7) : undefined,
    );
    await expect(handOffRedisPrimary("pi1", { fleet, shell, clock: manualClock(), timeoutMs: 5000 })).rejects.toThrow(
      "the Redis primary did not move off pi1 within 5 s (the sentinels still name it)",
    );
    expect(redisCommands(shell.calls).at(-1)).toBe("CLIENT UNPAUSE");
  });

  it("a replica that does not catch up stops the hand-off before any failover, and writes go again", async () => {
    const shell = recordingShell((c) =>
      isSentinelAsk(c) ? `${address("pi1")}\n6379\n` : c.argv?.includes("INFO") ? primaryInfo(7, 7, 3) : undefined,
    );
    await expect(handOffRedisPrimary("pi1", { fleet, shell, clock: manualClock(), timeoutMs: 5000 })).rejects.toThrow(
      "the replicas of pi1 did not catch up within 5 s",
    );
    expect(shell.calls.some((c) => c.argv?.includes("FAILOVER"))).toBe(false);
    expect(redisCommands(shell.calls).at(-1)).toBe("CLIENT UNPAUSE");
  });
});
