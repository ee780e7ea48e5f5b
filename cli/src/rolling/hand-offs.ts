import type { Holding } from "@pifleet/ansible-bridge";
import { handOffRedisPrimary, redisPrimary } from "@pifleet/counter-deploy";
import type { Fleet } from "@pifleet/fleet";
import type { NodeShell } from "@pifleet/io";

/**
 * The seam for what a node holds that clients need while it is down: the Redis primary (a
 * `SENTINEL FAILOVER` moves it to a replica) and the load balancer's virtual address (keepalived
 * moves it to a backup). Each provider says which node holds its thing now, and hands it away.
 * The roll drains a node, then hands away what it holds, then reboots it; holders go last.
 */
export interface HandOffProvider {
  /** Names the thing in plans and timelines, e.g. "redis-primary". */
  what: string;
  /** The node holding it now, or undefined when none does (not deployed, or no standby to hand to). */
  holder(): Promise<string | undefined>;
  /** Moves it off `node`; resolves once another node holds it. */
  handAway(node: string): Promise<void>;
}

/** A provider's maker: what it hands off, and how to reach it for this fleet. */
export interface HandOffKind {
  what: string;
  create(fleet: Fleet, shell: NodeShell): HandOffProvider;
}

/** The Redis primary: the sentinels say where it is; SENTINEL FAILOVER moves it to a synced replica (counter-deploy's hooks). */
const REDIS_PRIMARY: HandOffKind = {
  what: "redis-primary",
  create: (fleet, shell) => ({
    what: "redis-primary",
    // With one Redis node there is no replica to hand to: its reboot is an outage whatever the roll does.
    holder: async () =>
      fleet.app && fleet.nodes.filter((n) => n.roles.includes("redis")).length > 1
        ? (await redisPrimary({ fleet, shell })).name
        : undefined,
    handAway: async (node) => {
      await handOffRedisPrimary(node, { fleet, shell });
    },
  }),
};

/**
 * The kinds registered. The load balancer's virtual address (keepalived) joins when its hook exists;
 * until then a node holding the VIP is rolled last, and clients see its reboot as an outage.
 */
export const HAND_OFF_KINDS: readonly HandOffKind[] = [REDIS_PRIMARY];

export const handOffProviders = (fleet: Fleet, shell: NodeShell): HandOffProvider[] => HAND_OFF_KINDS.map((k) => k.create(fleet, shell));

/** Who holds what now, for the plan. */
export async function currentHoldings(providers: readonly HandOffProvider[]): Promise<Holding[]> {
  const found = await Promise.all(providers.map(async (p) => ({ what: p.what, node: await p.holder() })));
  return found.flatMap((h) => (h.node ? [{ what: h.what, node: h.node }] : []));
}
