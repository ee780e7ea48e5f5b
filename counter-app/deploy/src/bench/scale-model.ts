import { shellQuote } from "@pifleet/io";

/**
 * The pure parts of the scale-out bench (scale.ts): which app nodes to leave out for N replicas, the CPU
 * counters read on the nodes and what they mean per component, the efficiency table and which part saturates.
 */

/** A component of the counter's path whose CPU the bench reads: the app replicas, the LBs, redis-server. */
export type Component = "app" | "lb" | "redis";

/** One process group's CPU counter on one node, in seconds of CPU time since it started. */
export interface CpuCounter {
  node: string;
  component: Component;
  id: string;
  seconds: number;
}

/**
 * A POSIX sh script a node runs to print its counters, one line each:
 * `SERVICE CONTAINER ns N` (cgroup v1 cpuacct.usage) or `SERVICE CONTAINER usec N` (cgroup v2 cpu.stat) for
 * the stack's containers (a container's whole cgroup: HAProxy's master and worker together), and
 * `redis-server PID ticks N HZ` for redis-server, an OS service whose own utime+stime (/proc/PID/stat) is read:
 * the node's cgroup would count everything else on the node too.
 */
export function cpuCountersScript(stackName: string): string {
  return `set -eu
cpu() {
  while IFS=: read -r _ ctl path; do
    case ",$ctl," in
      *,cpuacct,*)
        for d in /sys/fs/cgroup/cpuacct /sys/fs/cgroup/cpu,cpuacct /sys/fs/cgroup/cpuacct,cpu; do
          if [ -r "$d$path/cpuacct.usage" ]; then echo "ns $(cat "$d$path/cpuacct.usage")"; return; fi
        done ;;
      ,,)
        if [ -r "/sys/fs/cgroup$path/cpu.stat" ]; then echo "usec $(awk '$1 == "usage_usec" { print $2 }' "/sys/fs/cgroup$path/cpu.stat")"; return; fi ;;
    esac
  done < "/proc/$1/cgroup"
  echo "none 0"
}
docker ps --filter label=com.docker.stack.namespace=${shellQuote(stackName)} --format '{{.ID}} {{.Label "com.docker.swarm.service.name"}}' |
  while read -r id service; do echo "$service $id $(cpu "$(docker inspect -f '{{.State.Pid}}' "$id")")"; done
hz=$(getconf CLK_TCK)
for f in /proc/[0-9]*/comm; do
  [ "$(cat "$f" 2>/dev/null)" = redis-server ] || continue
  pid=\${f#/proc/}; pid=\${pid%/comm}
  # Fields 14 and 15 (utime, stime); the comm field "(redis-server)" has no space.
  set -- $(cut -d' ' -f14,15 "/proc/$pid/stat")
  echo "redis-server $pid ticks $(($1 + $2)) $hz"
done
`;
}

/** The script's output on one node → counters (pure). Lines it cannot read are errors: a silent 0 would fake idle. */
export function parseCpuCounters(node: string, stackName: string, text: string): CpuCounter[] {
  const counters: CpuCounter[] = [];
  for (const line of text.split("\n").map((l) => l.trim())) {
    if (!line) continue;
    const [name = "", id = "", unit, value, hz] = line.split(/\s+/);
    const component: Component | undefined =
      name === "redis-server" ? "redis" : name === `${stackName}_app` ? "app" : name === `${stackName}_lb` ? "lb" : undefined;
    if (!component) continue;
    const n = Number(value);
    const seconds = unit === "ns" ? n / 1e9 : unit === "usec" ? n / 1e6 : unit === "ticks" && Number(hz) > 0 ? n / Number(hz) : Number.NaN;
    if (!Number.isFinite(seconds)) throw new Error(`${node}: cannot read the CPU counter line "${line}" (expected ns, usec or ticks)`);
    counters.push({ node, component, id, seconds });
  }
  return counters;
}

/**
 * CPU use during a round, per component: cores busy on average summed over its instances, the busiest
 * instance's (Redis's primary, the LB holding the VIP), and how many ran.
 */
export type CpuUse = Record<Component, { cores: number; busiest: number; instances: number }>;

/** Counters before and after a round of `seconds` → cores per component; only instances present both times (pure). */
export function cpuUse(before: CpuCounter[], after: CpuCounter[], seconds: number): CpuUse {
  const key = (c: CpuCounter) => `${c.node} ${c.component} ${c.id}`;
  const start = new Map(before.map((c) => [key(c), c.seconds]));
  const none = () => ({ cores: 0, busiest: 0, instances: 0 });
  const use: CpuUse = { app: none(), lb: none(), redis: none() };
  for (const c of after) {
    const s = start.get(key(c));
    if (s === undefined) continue;
    const cores = Math.max(0, c.seconds - s) / seconds;
    const u = use[c.component];
    u.cores += cores;
    u.busiest = Math.max(u.busiest, cores);
    u.instances += 1;
  }
  return use;
}

/** /proc/stat's first line → busy and total jiffies of the whole machine (pure). */
export function parseProcStat(text: string): { busy: number; total: number } {
  const fields = (text.split("\n")[0] ?? "").trim().split(/\s+/);
  if (fields[0] !== "cpu") throw new Error(`/proc/stat does not start with the "cpu" line: ${fields[0]}`);
  const n = fields.slice(1).map(Number);
  const total = n.slice(0, 8).reduce((a, b) => a + b, 0); // guest time is counted in user already
  const idle = (n[3] ?? 0) + (n[4] ?? 0);
  return { busy: total - idle, total };
}

/**
 * The `docker service update` arguments that leave the app on the first `replicas` app nodes only (the
 * app is a global service: its replicas are its nodes), from the hostnames left out so far (pure).
 */
export function placementUpdate(appNodes: readonly string[], replicas: number, excludedNow: readonly string[]) {
  if (replicas < 1 || replicas > appNodes.length) throw new Error(`cannot run ${replicas} replicas on ${appNodes.length} app nodes`);
  const excluded = appNodes.slice(replicas);
  const rule = (n: string) => `node.hostname!=${n}`;
  const args = [
    ...excludedNow.filter((n) => !excluded.includes(n)).flatMap((n) => ["--constraint-rm", rule(n)]),
    ...excluded.filter((n) => !excludedNow.includes(n)).flatMap((n) => ["--constraint-add", rule(n)]),
  ];
  return { args, excluded, serving: appNodes.slice(0, replicas) };
}

/** One measured round through the LB. */
export interface Round {
  replicas: number;
  reqPerSec: number;
  p99Ms: number;
  ok: number;
  /** Non-2xx answers, errors and timeouts. */
  failed: number;
  /** What Redis counted for the round's page. */
  counted: number;
  seconds: number;
  cpu: CpuUse;
  /** The same parts with no load, measured just before this N's rounds: timers, health checks, sentinels. */
  idleCpu: CpuUse;
  /** This machine's busy share of all its cores during the round (0..1). */
  hostBusy: number;
}

export interface Limits {
  /** The app replicas' CPU cap each. */
  appCpus: number;
  /** Cores a HAProxy may use; one, as its request path on a Pi is one thread in practice. */
  lbCores: number;
}

export interface Saturation {
  /**
   * Busy share of each part's limit: the replicas together vs N × cap, the busiest LB vs lbCores, the busiest
   * redis-server (the primary) vs one core (it runs commands on one thread), this machine vs all its cores.
   */
  load: Record<Component | "host", number>;
  /** The part with the highest share, and whether it is at its limit (≥ 0.9). */
  first: Component | "host";
  saturated: boolean;
}

export const SATURATED = 0.9;

/** Which part of the path is nearest its limit in a round (pure). */
export function saturation(round: Round, limits: Limits): Saturation {
  const load = {
    app: round.cpu.app.cores / (round.replicas * limits.appCpus),
    lb: round.cpu.lb.busiest / limits.lbCores,
    redis: round.cpu.redis.busiest,
    host: round.hostBusy,
  };
  const first = (Object.keys(load) as (keyof typeof load)[]).reduce((a, b) => (load[b] > load[a] ? b : a));
  return { load, first, saturated: load[first] >= SATURATED };
}

/** Lost: answered 2xx but not counted; extra: counted without a 2xx (pure). */
export const countCheck = (r: Pick<Round, "ok" | "counted">) => ({
  lost: Math.max(0, r.ok - r.counted),
  extra: Math.max(0, r.counted - r.ok),
});

export interface ScaleRow {
  replicas: number;
  best: Round;
  /** throughput(N) / (N × throughput(1)); undefined without a 1-replica row. */
  efficiency?: number;
  saturation: Saturation;
  /** CPU time per answered request in the best round, per component, above the idle use (µs): what the capacity model scales. */
  cpuUsPerRequest: Record<Component, number>;
  /** Summed over all rounds at this N. */
  lost: number;
  extra: number;
  rounds: number;
}

const perRequest = (r: Round, c: Component) => (Math.max(0, r.cpu[c].cores - r.idleCpu[c].cores) * 1e6) / r.reqPerSec;

/** Rounds → one row per replica count: the best round (highest req/s), its efficiency against 1 replica (pure). */
export function scaleRows(rounds: readonly Round[], limits: Limits): ScaleRow[] {
  const byN = new Map<number, Round[]>();
  for (const r of rounds) byN.set(r.replicas, [...(byN.get(r.replicas) ?? []), r]);
  const best = (rs: Round[]) => rs.reduce((a, b) => (b.reqPerSec > a.reqPerSec ? b : a));
  const one = byN.get(1);
  const base = one ? best(one).reqPerSec : undefined;
  return [...byN.keys()]
    .sort((a, b) => a - b)
    .map((n) => {
      const rs = byN.get(n) ?? [];
      const b = best(rs);
      const checks = rs.map(countCheck);
      return {
        replicas: n,
        best: b,
        ...(base ? { efficiency: b.reqPerSec / (n * base) } : {}),
        saturation: saturation(b, limits),
        cpuUsPerRequest: {
          app: perRequest(b, "app"),
          lb: perRequest(b, "lb"),
          redis: perRequest(b, "redis"),
        },
        lost: checks.reduce((s, c) => s + c.lost, 0),
        extra: checks.reduce((s, c) => s + c.extra, 0),
        rounds: rs.length,
      };
    });
}

const pct = (x: number) => `${Math.round(x * 100)}%`;

/** The table the bench prints (pure). */
export function renderScaleTable(rows: readonly ScaleRow[]): string {
  const head =
    "replicas  req/s   p99 ms  efficiency  CPU app / lb / redis (cores)  idle (cores)        µs/req above idle app / lb / redis  load app / lb / redis / host  first to saturate  lost  extra";
  const lines = rows.map((r) => {
    const { cpu, idleCpu: idle } = r.best;
    const { load, first, saturated } = r.saturation;
    const us = r.cpuUsPerRequest;
    return [
      String(r.replicas).padEnd(9),
      r.best.reqPerSec.toFixed(0).padEnd(7),
      r.best.p99Ms.toFixed(1).padEnd(7),
      (r.efficiency === undefined ? "-" : r.efficiency.toFixed(2)).padEnd(11),
      `${cpu.app.cores.toFixed(2)} / ${cpu.lb.cores.toFixed(2)} / ${cpu.redis.cores.toFixed(2)}`.padEnd(29),
      `${idle.app.cores.toFixed(2)} / ${idle.lb.cores.toFixed(2)} / ${idle.redis.cores.toFixed(2)}`.padEnd(19),
      `${us.app.toFixed(0)} / ${us.lb.toFixed(0)} / ${us.redis.toFixed(0)}`.padEnd(35),
      `${pct(load.app)} / ${pct(load.lb)} / ${pct(load.redis)} / ${pct(load.host)}`.padEnd(30),
      `${first}${saturated ? "" : " (none at its limit)"}`.padEnd(18),
      String(r.lost).padEnd(5),
      String(r.extra),
    ].join(" ");
  });
  return [head, ...lines].join("\n");
}
