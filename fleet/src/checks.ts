import { checkLoadBalancer } from "./load-balancer-check.js";
import { isValidAddress } from "./schema.js";
import type { PathSegment } from "./source-map.js";

/** A cross-field problem found in the raw fleet document. */
export interface FleetProblem {
  path: PathSegment[];
  message: string;
  /** Report at the key rather than the value. */
  at?: "key";
}

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === "object" && v !== null && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const strings = (v: unknown): string[] => list(v).filter((x): x is string => typeof x === "string");

/** What a pool selector looks at on a node. */
export interface SelectableNode {
  name?: string;
  roles: readonly string[];
  arch: string;
  labels: Readonly<Record<string, unknown>>;
}

interface RawNode extends SelectableNode {
  index: number;
}

function rawNodes(doc: Rec): RawNode[] {
  return list(doc.nodes).flatMap((n, index) =>
    isRec(n)
      ? [{ index, name: str(n.name), roles: strings(n.roles), arch: str(n.arch) ?? "arm64", labels: isRec(n.labels) ? n.labels : {} }]
      : [],
  );
}

/** Node names a pool selects, by explicit list or by selector (all runner nodes when neither). */
export function selectNodeNames(pool: Rec, nodes: readonly SelectableNode[]): string[] {
  const explicit = pool.nodes;
  if (Array.isArray(explicit)) return strings(explicit).filter((n) => nodes.some((x) => x.name === n));
  const sel = isRec(pool.select) ? pool.select : { roles: ["runner"] };
  const roles = strings(sel.roles);
  const arches = strings(sel.arch);
  const labels = isRec(sel.labels) ? sel.labels : {};
  return nodes
    .filter((n) => roles.every((r) => n.roles.includes(r)))
    .filter((n) => arches.length === 0 || arches.includes(n.arch))
    .filter((n) => Object.entries(labels).every(([k, v]) => n.labels[k] === v))
    .flatMap((n) => (n.name ? [n.name] : []));
}

/**
 * Checks that need more than one field: uniqueness, references between
 * sections, and facts the cluster needs to work. Tolerant of a document that
 * also fails the schema, so every error is reported in one pass.
 */
export function checkFleet(doc: unknown): FleetProblem[] {
  if (!isRec(doc)) return [];
  const problems: FleetProblem[] = [];
  const nodes = rawNodes(doc);
  const rawList = list(doc.nodes);

  const seenNames = new Map<string, number>();
  const seenAddresses = new Map<string, number>();
  rawList.forEach((n, i) => {
    if (!isRec(n)) return;
    const name = str(n.name);
    if (name !== undefined) {
      const first = seenNames.get(name);
      if (first !== undefined)
        problems.push({ path: ["nodes", i, "name"], message: `duplicate node name "${name}" (first used by nodes[${first}])` });
      else seenNames.set(name, i);
    }
    const address = str(n.address);
    if (address !== undefined && isValidAddress(address)) {
      const key = address.toLowerCase();
      const first = seenAddresses.get(key);
      if (first !== undefined)
        problems.push({ path: ["nodes", i, "address"], message: `duplicate node address "${address}" (first used by nodes[${first}])` });
      else seenAddresses.set(key, i);
    }
    const roles = strings(n.roles);
    if (roles.includes("swarm-manager") && roles.includes("swarm-worker")) {
      problems.push({ path: ["nodes", i, "roles"], message: `node "${name}" is both swarm-manager and swarm-worker; give it one of them` });
    }
    for (const r of ["app", "redis", "loadbalancer"]) {
      if (roles.includes(r) && !roles.includes("swarm-manager") && !roles.includes("swarm-worker")) {
        problems.push({
          path: ["nodes", i, "roles"],
          message: `node "${name}" has role ${r} but is not in the Swarm; add swarm-manager or swarm-worker`,
        });
      }
    }
  });

  if (rawList.length > 0 && !nodes.some((n) => n.roles.includes("swarm-manager"))) {
    problems.push({ path: ["nodes"], message: "no node has the swarm-manager role; the Swarm needs at least one manager" });
  }

  const seenPools = new Set<string>();
  list(doc.pools).forEach((p, i) => {
    if (!isRec(p)) return;
    const name = str(p.name) ?? `pools[${i}]`;
    if (seenPools.has(name)) problems.push({ path: ["pools", i, "name"], message: `duplicate runner pool name "${name}"` });
    seenPools.add(name);
    if (p.nodes !== undefined && p.select !== undefined) {
      problems.push({ path: ["pools", i, "select"], message: `runner pool "${name}" has both nodes and select; use one` });
    }
    const executor = str(p.executor) ?? "docker";
    if (p.dockerSocket === true && executor !== "docker") {
      problems.push({
        path: ["pools", i, "dockerSocket"],
        message: `runner pool "${name}" has dockerSocket: true but executor ${executor}; only docker-executor jobs get the socket mounted, so use executor: docker or drop dockerSocket`,
      });
    }
    strings(p.nodes).forEach((n, j) => {
      if (!seenNames.has(n)) problems.push({ path: ["pools", i, "nodes", j], message: `runner pool "${name}" names unknown node "${n}"` });
    });
    if (selectNodeNames(p, nodes).length === 0) {
      problems.push({
        path: ["pools", i],
        message: `runner pool "${name}" selects no node; check its nodes or select (with neither, it takes the nodes with role runner)`,
      });
    }
  });

  const scope = isRec(doc.gitlab) && isRec(doc.gitlab.runnerScope) ? doc.gitlab.runnerScope : undefined;
  if (scope && (scope.type === "group" || scope.type === "project") && scope.id === undefined) {
    problems.push({ path: ["gitlab", "runnerScope"], message: `runner scope ${scope.type} needs an id (the ${scope.type}'s numeric id)` });
  }

  problems.push(...checkRedisNodes(nodes));
  const app = isRec(doc.app) ? doc.app : undefined;
  if (app) {
    const redisNode = isRec(app.redis) ? str(app.redis.node) : undefined;
    if (redisNode !== undefined) {
      const node = nodes.find((n) => n.name === redisNode);
      if (!node) problems.push({ path: ["app", "redis", "node"], message: `app.redis.node names unknown node "${redisNode}"` });
      else if (!node.roles.includes("redis"))
        problems.push({ path: ["app", "redis", "node"], message: `node "${redisNode}" runs Redis but lacks the redis role` });
    }
    for (const key of ["registry", "loadBalancer"] as const) {
      const ref = isRec(app[key]) ? str((app[key] as Rec).node) : undefined;
      if (ref !== undefined && !seenNames.has(ref))
        problems.push({ path: ["app", key, "node"], message: `app.${key}.node names unknown node "${ref}"` });
    }
    problems.push(
      ...checkLoadBalancer(
        app,
        nodes.map((n) => ({ ...n, address: str((rawList[n.index] as Rec).address) })),
      ),
    );
    if (nodes.length > 0 && !nodes.some((n) => n.roles.includes("app"))) {
      problems.push({ path: ["app"], message: "app is configured but no node has the app role" });
    }
  }
  return problems;
}

/**
 * Two redis nodes are worse than one: a failover needs a majority of the sentinels (2 of 2), so
 * losing either node stops failovers, and with a replica's acknowledgement required, losing the
 * replica stops the counter's writes too.
 */
function checkRedisNodes(nodes: readonly { index: number; name?: string; roles: readonly string[] }[]): FleetProblem[] {
  const redis = nodes.filter((n) => n.roles.includes("redis"));
  if (redis.length !== 2) return [];
  const second = redis[1] as (typeof redis)[number];
  return [
    {
      path: ["nodes", second.index, "roles"],
      message: `2 nodes have the redis role (${redis.map((n) => n.name).join(", ")}): the sentinels need 2 of 2 votes to fail over, so losing either node stops the counter's writes; give the redis role to 1 node (no failover) or to 3 or more`,
    },
  ];
}
