import type { Holding } from "@pifleet/ansible-bridge";
import { handOffRedisPrimary, LB_HEALTH_PORT, redisPrimary, STACK_NAME } from "@pifleet/counter-deploy";
import { type Fleet, type FleetNode, OperationError, resolveTopology } from "@pifleet/fleet";
import { type NodeShell, sleep } from "@pifleet/io";
import { vipHandAwayScript, vipReleaseScript } from "./vip-hand-off.js";

/**
 * The seam for what a node holds that clients need while it is down: the Redis primary (a
 * `SENTINEL FAILOVER` moves it to a replica) and the load balancer's virtual address (keepalived
 * moves it to a backup). Each provider says which node holds its thing now, and hands it away.
 * The roll drains a node, then hands away what it holds, then reboots it; holders go last.
 */
export interface HandOffProvider {
  /** Names the thing in plans and timelines, e.g. "redis-primary". */
  what: string;
  /** The nodes that may hold it (each of them hands it away on its turn, if it holds it then). */
  candidates: string[];
  /** The node holding it now, or undefined when none does (not deployed, or no standby to hand to). */
  holder(): Promise<string | undefined>;
  /** Moves it off `node`; resolves once another node holds it, with what the roll's timeline should say about the move. */
  handAway(node: string): Promise<string | undefined>;
  /** Once `node` is back and undrained: it may hold it again (it does not take it back). */
  release(node: string): Promise<void>;
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
    candidates: fleet.nodes.filter((n) => n.roles.includes("redis")).map((n) => n.name),
    // With one Redis node there is no replica to hand to: its reboot is an outage whatever the roll does.
    holder: async () =>
      fleet.app && fleet.nodes.filter((n) => n.roles.includes("redis")).length > 1
        ? (await redisPrimary({ fleet, shell })).name
        : undefined,
    handAway: async (node) => {
      const started = Date.now();
      // The node-side script holds writes only until the old primary follows the new one; then this polls until
      // the sentinels agree, which gates the node's reboot: poll often (the default 500 ms is for people).
      const { moved, primary, detail } = await handOffRedisPrimary(node, { fleet, shell, pollMs: 100 });
      return moved ? `to ${primary.name} in ${Date.now() - started} ms, ${detail}` : undefined;
    },
    // A replica that came back is a sentinel's candidate again by itself.
    release: async () => {},
  }),
};

/** keepalived's hand-away file (the keepalived role): while it exists the node's health check fails and a peer takes the VIP. */
const KEEPALIVED_HAND_AWAY_FILE = "/run/keepalived-hand-away";

/** HAProxy's monitor-uri on its published health port (the stack's lb service), which keepalived tracks too. */
const LB_HEALTH_URL = `http://127.0.0.1:${LB_HEALTH_PORT}/healthz`;

/**
 * The load balancer's virtual address: keepalived holds it on one load-balancer node. Handing it away drains
 * the node's HAProxy before keepalived lets the address go (vip-hand-off.ts says how and what a client sees).
 */
const LB_VIP: HandOffKind = {
  what: "lb-vip",
  create: (fleet, shell) => {
    const { loadBalancer } = resolveTopology(fleet);
    const nodes = loadBalancer?.nodes ?? [];
    const vip = loadBalancer?.vip?.address;
    const target = vip
      ? { vip, port: loadBalancer.port, lbService: `${STACK_NAME}_lb`, handAwayFile: KEEPALIVED_HAND_AWAY_FILE }
      : undefined;
    // hostname -I lists every address of the node, the VIP included while keepalived holds it there.
    const holds = async (node: FleetNode) =>
      (await shell.run(node, ["hostname", "-I"], { allowFailure: true })).stdout.split(/\s+/).includes(vip ?? "");
    const holder = async () => {
      for (const n of nodes) if (await holds(n)) return n;
      return undefined;
    };
    // A peer that can take the VIP: keepalived running there and its HAProxy answering (else the VIP would go nowhere).
    const ready = async (node: FleetNode) =>
      (
        await shell.script(
          node,
          `systemctl is-active --quiet keepalived && curl --fail --silent --output /dev/null --max-time 2 ${LB_HEALTH_URL}`,
          {
            allowFailure: true,
          },
        )
      ).code === 0;
    return {
      what: "lb-vip",
      candidates: vip && nodes.length > 1 ? nodes.map((n) => n.name) : [],
      // Without a VIP or a second load balancer there is nothing to hand to.
      holder: async () => (vip && nodes.length > 1 ? (await holder())?.name : undefined),
      handAway: async (name) => {
        const node = nodes.find((n) => n.name === name);
        // A node that does not hold the VIP now (an earlier move may have put it elsewhere) has nothing to hand.
        if (!node || !target || !(await holds(node))) return undefined;
        const peers = nodes.filter((n) => n !== node);
        const readyPeers = (await Promise.all(peers.map(async (p) => ((await ready(p)) ? [p.name] : [])))).flat();
        // Before the first deploy (a pipeline's upgrade-pending) no HAProxy runs anywhere: nothing is served
        // through the VIP, so there is nothing to keep up and keepalived may keep it where it is.
        if (readyPeers.length === 0 && !(await ready(node)))
          return "not moved: no load balancer answers on any node (the stack is not deployed)";
        if (readyPeers.length === 0)
          throw new OperationError(
            `no other load balancer can take ${vip} from ${name}: keepalived is not running or HAProxy does not answer ${LB_HEALTH_URL} on ${peers.map((p) => p.name).join(", ")}`,
            "Bring another load-balancer node's keepalived and lb task up (pifleet app status), then rerun pifleet upgrade.",
          );
        const started = Date.now();
        const said = await shell.script(node, vipHandAwayScript(target), { root: true, describe: `hand ${vip} away` });
        const deadline = Date.now() + 30_000;
        for (;;) {
          const now = await holder();
          if (now && now.name !== name) return `${said.stdout.trim()}; on ${now.name} after ${Date.now() - started} ms`;
          if (Date.now() > deadline)
            throw new OperationError(
              `the load balancer's address ${vip} did not move off ${name} within 30 s (${now ? `still on ${now.name}` : "on no node"})`,
              `Look at keepalived on the load-balancer nodes (journalctl -u keepalived); ${name}'s keepalived is stopped and new connections to the VIP are held there until pifleet upgrade releases it (or a reboot).`,
            );
          await sleep(200);
        }
      },
      release: async (name) => {
        const node = nodes.find((n) => n.name === name);
        if (node && target) await shell.script(node, vipReleaseScript(target), { root: true, describe: `release ${vip}` });
      },
    };
  },
};

/** The kinds registered: each node's holdings are handed away before it goes down. */
export const HAND_OFF_KINDS: readonly HandOffKind[] = [REDIS_PRIMARY, LB_VIP];

export const handOffProviders = (fleet: Fleet, shell: NodeShell): HandOffProvider[] => HAND_OFF_KINDS.map((k) => k.create(fleet, shell));

/** Which nodes may hold what, for the plan's hand-off steps. */
export const candidateHolders = (providers: readonly HandOffProvider[]) => providers.map((p) => ({ what: p.what, nodes: p.candidates }));

/** Who holds what now, for the plan's order. */
export async function currentHoldings(providers: readonly HandOffProvider[]): Promise<Holding[]> {
  const found = await Promise.all(providers.map(async (p) => ({ what: p.what, node: await p.holder() })));
  return found.flatMap((h) => (h.node ? [{ what: h.what, node: h.node }] : []));
}
