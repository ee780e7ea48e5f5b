import { setTimeout as delay } from "node:timers/promises";
import { createClient } from "redis";
import { type LocalRedis, startLocalRedis } from "./redis-server.js";

/**
 * The fleet's Redis in miniature, on loopback: a primary that accepts writes only
 * while a replica is attached (min-replicas-to-write 1, as the Ansible role sets),
 * two replicas (so a promoted one still has a replica, as on the fleet's three
 * Redis nodes), and three sentinels (quorum 2) watching them under `name`.
 */
export interface LocalSentinelGroup {
  name: string;
  primary: LocalRedis;
  replicas: LocalRedis[];
  sentinels: LocalRedis[];
  /** REDIS_SENTINELS for the app. */
  sentinelList: string;
  dispose(): Promise<void>;
}

export async function startLocalSentinelGroup(name = "pifleet", downAfterMs = 1000): Promise<LocalSentinelGroup> {
  const safety = ["--min-replicas-to-write", "1", "--min-replicas-max-lag", "10"];
  const primary = await startLocalRedis("redis-server", { args: safety });
  const replicas: LocalRedis[] = [];
  for (let i = 0; i < 2; i++)
    replicas.push(await startLocalRedis("redis-server", { args: [...safety, "--replicaof", "127.0.0.1", String(primary.port)] }));
  await replicasOnline(primary.url, replicas.length);
  const sentinelConfig = [
    `sentinel monitor ${name} 127.0.0.1 ${primary.port} 2`,
    `sentinel down-after-milliseconds ${name} ${downAfterMs}`,
    `sentinel failover-timeout ${name} 5000`,
    "",
  ].join("\n");
  const sentinels: LocalRedis[] = [];
  for (let i = 0; i < 3; i++) sentinels.push(await startLocalRedis("redis-server", { sentinelConfig }));
  return {
    name,
    primary,
    replicas,
    sentinels,
    sentinelList: sentinels.map((s) => `127.0.0.1:${s.port}`).join(","),
    dispose: async () => {
      for (const s of sentinels) await s.dispose();
      for (const r of replicas) await r.dispose();
      await primary.dispose();
    },
  };
}

/** Until the primary counts its replicas as online (before that it refuses writes: NOREPLICAS). */
async function replicasOnline(primaryUrl: string, count: number): Promise<void> {
  const client = createClient({ url: primaryUrl });
  await client.connect();
  try {
    for (let i = 0; i < 100; i++) {
      if ((await client.info("replication")).match(/^slave\d+:.*state=online/gm)?.length === count) return;
      await delay(100);
    }
    throw new Error(`the replicas of ${primaryUrl} did not come online within 10 s`);
  } finally {
    await client.close();
  }
}
