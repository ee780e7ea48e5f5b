import { shellQuote } from "@pifleet/io";

/** What the VIP hand-off needs to know about one fleet's load balancer. */
export interface VipHandOffTarget {
  /** The virtual address, without its prefix (e.g. 192.168.1.250). */
  vip: string;
  /** The port clients reach the load balancer on through the VIP (app.loadBalancer.port). */
  port: number;
  /** The Swarm service of the load balancer (`<stack>_lb`): its container on the node is drained. */
  lbService: string;
  /** keepalived's hand-away file (the keepalived role): while it exists the node is not eligible for the VIP. */
  handAwayFile: string;
}

/** Marks the one firewall rule the hand-off adds, so release removes exactly it. */
const RULE_COMMENT = "pifleet-vip-hand-away";

/** The raw-table rule that drops (never refuses) new connections to the VIP on the node handing it away. */
const holdRule = (t: VipHandOffTarget) =>
  `PREROUTING -d ${t.vip}/32 -p tcp --dport ${t.port} --syn -m comment --comment ${RULE_COMMENT} -j DROP`;

/**
 * The node-side half of handing the VIP away, one root script so no SSH round trip sits between its steps:
 *
 * 1. new connections to the VIP are held: their SYN is dropped, not refused, so the client sends it again
 *    after its retransmission timeout (1 s on Linux), by then to the new holder;
 * 2. the local HAProxy soft-stops (`docker stop`: SIGUSR1, haproxy.cfg `option idle-close-on-response`):
 *    every open connection gets its answer with `Connection: close`, then HAProxy exits; after 2 s it is
 *    killed, which closes the connections a client left idle (they would hold the new ones up for 5 s:
 *    timeout http-keep-alive);
 * 3. only then keepalived stops: its shutdown drops the VIP and sends a priority-0 advert, so a backup takes
 *    the VIP within its skew time (< 1 s) instead of waiting out three missed adverts.
 *
 * So no connection is open on the old holder when the VIP moves, and none is refused: a client sees a clean
 * close after its response and, for a connection opened during the move, one SYN retransmission.
 * If keepalived does not let go of the VIP, the hold is lifted again (the node keeps serving) and it fails.
 */
export function vipHandAwayScript(t: VipHandOffTarget): string {
  const rule = holdRule(t);
  return `set -u
rule=${shellQuote(rule)}
ms() { date +%s%3N; }
t0=$(ms)
touch ${shellQuote(t.handAwayFile)}
iptables -t raw -C $rule 2>/dev/null || iptables -t raw -I $rule || { echo "could not hold new connections to ${t.vip}:${t.port} (iptables -t raw)" >&2; exit 1; }
lbs=$(docker ps -q --filter label=com.docker.swarm.service.name=${shellQuote(t.lbService)})
if [ -n "$lbs" ]; then
  docker stop --time 2 $lbs >/dev/null || echo "docker stop of the load balancer failed: handing the VIP away anyway" >&2
fi
t1=$(ms)
systemctl stop keepalived
i=0
while ip -o -4 address show | grep -qF ' ${t.vip}/'; do
  i=$((i + 1))
  if [ "$i" -gt 50 ]; then
    iptables -t raw -D $rule
    echo "keepalived stopped but ${t.vip} is still on this node after 5 s" >&2
    exit 1
  fi
  sleep 0.1
done
echo "load balancer drained in $(( t1 - t0 )) ms, VIP released $(( $(ms) - t1 )) ms later"
`;
}

/** Undoes the hand-away: the node is eligible for the VIP again (it does not take it back: nopreempt). */
export function vipReleaseScript(t: VipHandOffTarget): string {
  return `set -u
rule=${shellQuote(holdRule(t))}
rm -f ${shellQuote(t.handAwayFile)}
while iptables -t raw -D $rule 2>/dev/null; do :; done
systemctl start keepalived
`;
}
