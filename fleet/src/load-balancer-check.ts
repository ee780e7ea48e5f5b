import { isIP } from "node:net";
import type { FleetProblem } from "./checks.js";
import { inVipNetwork, parseVirtualAddress, vipShapeProblem } from "./vip.js";

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === "object" && v !== null && !Array.isArray(v);

interface LbNode {
  index: number;
  name?: string;
  address?: string;
  roles: readonly string[];
}

/**
 * Where the load balancer runs and the VIP in front of it (raw document; part of checkFleet):
 * one way to place it, a VIP when there is more than one LB node, and a VIP that keepalived
 * can hold on the LB nodes' LAN without taking a node's address.
 */
export function checkLoadBalancer(app: Rec, nodes: readonly LbNode[]): FleetProblem[] {
  const problems: FleetProblem[] = [];
  const lb = isRec(app.loadBalancer) ? app.loadBalancer : {};
  const lbNodes = nodes.filter((n) => n.roles.includes("loadbalancer"));
  if (lb.node !== undefined && lbNodes.length > 0)
    problems.push({
      path: ["app", "loadBalancer", "node"],
      message: `app.loadBalancer.node and the loadbalancer role (${lbNodes.map((n) => n.name).join(", ")}) both place the load balancer; remove app.loadBalancer.node`,
    });
  const vip = typeof lb.vip === "string" ? lb.vip : undefined;
  if (vip === undefined) {
    if (lbNodes.length > 1)
      problems.push({
        path: isRec(app.loadBalancer) ? ["app", "loadBalancer"] : ["app"],
        message: `${lbNodes.length} nodes have the loadbalancer role, so clients need one address that moves between them: set app.loadBalancer.vip (a free address on their LAN, e.g. 192.168.1.250/24)`,
      });
    return problems;
  }
  const shape = vipShapeProblem(vip);
  const parsed = parseVirtualAddress(vip);
  if (shape || !parsed) return [...problems, { path: ["app", "loadBalancer", "vip"], message: shape ?? "invalid VIP" }];
  for (const n of nodes)
    if (n.address === parsed.address)
      problems.push({
        path: ["app", "loadBalancer", "vip"],
        message: `app.loadBalancer.vip ${parsed.address} is node "${n.name}"'s address; the VIP must be a free address`,
      });
  // The LB nodes, or the one node app.loadBalancer.node (or the first manager) names.
  const holders =
    lbNodes.length > 0 ? lbNodes : nodes.filter((n) => n.name === (lb.node ?? nodes.find((x) => x.roles.includes("swarm-manager"))?.name));
  for (const n of holders)
    if (n.address !== undefined && !inVipNetwork(parsed, n.address))
      problems.push({
        path: ["app", "loadBalancer", "vip"],
        message: isIP(n.address)
          ? `node "${n.name}" (${n.address}) is outside app.loadBalancer.vip's network ${vip}: VRRP and ARP move the VIP only within one LAN`
          : `node "${n.name}" holds the VIP but its address ${n.address} is not an IPv4 address: keepalived's unicast VRRP needs the nodes' IPv4 addresses`,
      });
  return problems;
}
