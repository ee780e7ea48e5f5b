import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { closeSshMasters, configure } from "@pifleet/ansible-bridge";
import { loadFleetFile } from "@pifleet/fleet";
import { type NodeShell, sleep } from "@pifleet/io";
import { simDown, simUp } from "@pifleet/sim";
import autocannon from "autocannon";
import { appTopology } from "../deploy/cluster.js";
import { deployStack, withShell } from "../deploy/deploy.js";
import { STACK_NAME } from "../deploy/stack.js";
import { buildImages } from "../images/build.js";
import { isLoadableAddress } from "../load/target.js";
import {
  type CpuCounter,
  cpuCountersScript,
  cpuUse,
  type Limits,
  parseCpuCounters,
  parseProcStat,
  placementUpdate,
  type Round,
  renderScaleTable,
  scaleRows,
} from "./scale-model.js";

/**
 * `npm run bench:scale -w counter-app/deploy [-- --quick] [--json] [--nodes 4] [--replicas 1,2,3,4] [--cpus 0.2]`:
 * a sim of its own (configured by site.yml, the stack deployed with each app replica capped at --cpus), then for
 * each replica count N the app left on N nodes and a bounded autocannon load through the VIP: best of several
 * rounds, efficiency against 1 replica, CPU per component, and Redis's count checked against the 2xx answers.
 * The sim is always taken down. Loads only the sim's 198.18.0.0/15 addresses.
 */
const USAGE =
  "usage: npm run bench:scale -w counter-app/deploy -- [--quick] [--json] [--nodes N] [--replicas 1,2,…≤N] [--cpus 0.2] [--dir PARENT_DIR]";
function usage(problem: string): never {
  process.stderr.write(`${problem}\n${USAGE}\n`);
  process.exit(2);
}
function parseOptions() {
  try {
    return parseArgs({
      options: {
        quick: { type: "boolean", default: false },
        json: { type: "boolean", default: false },
        nodes: { type: "string", default: "4" },
        replicas: { type: "string" },
        cpus: { type: "string", default: "0.2" },
        dir: { type: "string", default: tmpdir() },
      },
    }).values;
  } catch (err) {
    return usage(err instanceof Error ? err.message : String(err));
  }
}
const values = parseOptions();
const nodes = Number(values.nodes);
const appCpus = Number(values.cpus);
const replicaCounts = (values.replicas ?? Array.from({ length: nodes }, (_, i) => i + 1).join(",")).split(",").map(Number);
if (!(Number.isInteger(nodes) && nodes >= 1)) usage(`--nodes ${values.nodes}: a whole number of sim nodes, at least 1`);
if (!(appCpus > 0)) usage(`--cpus ${values.cpus}: a CPU cap per app replica above 0, e.g. 0.2`);
if (!replicaCounts.every((n) => Number.isInteger(n) && n >= 1 && n <= nodes))
  usage(`--replicas ${values.replicas}: counts from 1 to --nodes (${nodes})`);
/** Quick: a smoke run that proves the path end to end; its figures mean nothing. */
const plan = values.quick
  ? { idleSeconds: 3, warmupSeconds: 2, roundSeconds: 3, rounds: 2, connections: 8 }
  : { idleSeconds: 5, warmupSeconds: 5, roundSeconds: 10, rounds: 3, connections: 16 };
const limits: Limits = { appCpus, lbCores: 1 };
const log = (m: string) => process.stderr.write(`[bench:scale] ${m}\n`);
const stack = STACK_NAME;

async function counters(shell: NodeShell, fleetNodes: { name: string; address: string }[]): Promise<CpuCounter[]> {
  const script = cpuCountersScript(stack);
  const per = await Promise.all(
    fleetNodes.map(async (n) => parseCpuCounters(n.name, stack, (await shell.script(n, script, { describe: "read CPU counters" })).stdout)),
  );
  return per.flat();
}

const hostStat = async () => parseProcStat(await readFile("/proc/stat", "utf8"));

async function pageCount(base: string, page: string): Promise<number> {
  const res = await fetch(`${base}/api/stats`, { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`${base}/api/stats answered ${res.status}`);
  return ((await res.json()) as { pages: Record<string, number> }).pages[page] ?? 0;
}

/** Until the LB spreads requests over exactly these nodes (the left-out ones gone from its pool). */
async function waitForServing(base: string, serving: string[], timeoutMs = 180_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  const want = [...serving].sort().join(",");
  let seen = "";
  while (Date.now() < until) {
    const nodesSeen = new Set<string>();
    for (let i = 0; i < 8 * serving.length; i++) {
      const res = await fetch(`${base}/api/views/bench-scale-probe`, { signal: AbortSignal.timeout(10_000) }).catch(() => undefined);
      if (res?.ok) nodesSeen.add(((await res.json()) as { node: string }).node);
    }
    seen = [...nodesSeen].sort().join(",");
    if (seen === want) return;
    await sleep(2000);
  }
  throw new Error(`the LB did not settle on the app nodes ${want} within ${timeoutMs / 1000} s (last seen: ${seen || "none"})`);
}

const load = (options: autocannon.Options) =>
  new Promise<autocannon.Result>((resolve, reject) => {
    autocannon({ timeout: 10, ...options }, (err, r) => (err ? reject(err) : resolve(r)));
  });

async function measure(shell: NodeShell, base: string, fleetNodes: { name: string; address: string }[], replicas: number) {
  const url = (page: string) => `${base}/api/views/${page}`;
  const idleStart = await counters(shell, fleetNodes);
  const idleStarted = performance.now();
  await sleep(plan.idleSeconds * 1000);
  const idleCpu = cpuUse(idleStart, await counters(shell, fleetNodes), (performance.now() - idleStarted) / 1000);
  const warm = await load({ url: url("bench-scale-warmup"), connections: plan.connections, duration: plan.warmupSeconds });
  const rate = warm["2xx"] / plan.warmupSeconds;
  const rounds: Round[] = [];
  for (let i = 1; i <= plan.rounds; i++) {
    // A number of requests, not a duration: autocannon then waits for every answer, so the count is exact.
    const amount = Math.max(100, Math.round(rate * plan.roundSeconds));
    const page = `bench-scale-${process.pid}-n${replicas}-r${i}`;
    const before = await pageCount(base, page);
    const [cpuBefore, hostBefore] = await Promise.all([counters(shell, fleetNodes), hostStat()]);
    const started = performance.now();
    const r = await load({ url: url(page), connections: plan.connections, amount });
    const seconds = (performance.now() - started) / 1000;
    const [cpuAfter, hostAfter] = await Promise.all([counters(shell, fleetNodes), hostStat()]);
    const counted = (await pageCount(base, page)) - before;
    const round: Round = {
      replicas,
      reqPerSec: r["2xx"] / seconds,
      p99Ms: r.latency.p99,
      ok: r["2xx"],
      failed: r.non2xx + r.errors + r.timeouts,
      counted,
      seconds,
      cpu: cpuUse(cpuBefore, cpuAfter, seconds),
      idleCpu,
      hostBusy: (hostAfter.busy - hostBefore.busy) / (hostAfter.total - hostBefore.total),
    };
    log(
      `N=${replicas} round ${i}: ${round.reqPerSec.toFixed(0)} req/s, p99 ${round.p99Ms} ms, ${round.ok} 2xx, ${round.failed} failed, ` +
        `counted ${counted}, ${seconds.toFixed(1)} s; CPU app ${round.cpu.app.cores.toFixed(2)} lb ${round.cpu.lb.cores.toFixed(2)} ` +
        `redis ${round.cpu.redis.cores.toFixed(2)} cores, this machine ${(round.hostBusy * 100).toFixed(0)}% busy`,
    );
    rounds.push(round);
  }
  return rounds;
}

const started = Date.now();
// A directory of its own under --dir (default the system's temp dir): removed at the end, --dir itself never.
// Short: SSH's control sockets live below it, and a Unix socket's path has at most 107 bytes.
await mkdir(values.dir, { recursive: true });
const workDir = await mkdtemp(join(values.dir, "pf-scale-"));
const simDir = join(workDir, "sim");
try {
  const cluster = async () => {
    const sim = await simUp({ dir: simDir, nodes, gitlab: false, progress: log });
    const loaded = await loadFleetFile(sim.fleetFile);
    const configured = await configure({
      fleet: loaded.fleet,
      workDir: join(workDir, "ansible"),
      tags: ["base", "docker", "registry", "swarm", "redis", "keepalived"],
    });
    if (configured.failures.length > 0) throw new Error(`configure failed on the sim: ${JSON.stringify(configured.failures)}`);
    return loaded;
  };
  // Both mostly wait on downloads: side by side.
  const [{ tags }, { fleet, topology }] = await Promise.all([buildImages("amd64", { progress: log }), cluster()]);
  const t = appTopology(fleet, topology);
  if (!isLoadableAddress(t.loadBalancer.address)) throw new Error(`refusing to load ${t.loadBalancer.address}: not in 198.18.0.0/15`);
  const deployed = await deployStack({ built: tags }, { fleet, topology, progress: log, stack: { appCpus } });
  if (deployed.outcome !== "converged") throw new Error(`the stack did not converge: ${deployed.outcome}`);
  const setupSeconds = (Date.now() - started) / 1000;
  log(`sim of ${nodes} node(s) configured and the stack deployed (app capped at ${appCpus} CPU) in ${setupSeconds.toFixed(0)} s`);

  const appNodes = t.appNodes.map((n) => n.name);
  const rounds = await withShell({ fleet }, async (shell) => {
    const all: Round[] = [];
    let excluded: string[] = [];
    for (const n of replicaCounts) {
      const update = placementUpdate(appNodes, n, excluded);
      if (update.args.length > 0) {
        await shell.run(t.manager, ["docker", "service", "update", "--detach", ...update.args, `${stack}_app`], {
          describe: `leave the app on ${update.serving.join(", ")}`,
        });
      }
      excluded = update.excluded;
      await waitForServing(t.loadBalancer.url, update.serving);
      all.push(...(await measure(shell, t.loadBalancer.url, fleet.nodes, n)));
    }
    return all;
  });
  const rows = scaleRows(rounds, limits);
  const totalSeconds = (Date.now() - started) / 1000;
  if (values.json) {
    console.log(
      JSON.stringify({ quick: values.quick, nodes, appCpus, plan, hostCores: cpus().length, setupSeconds, totalSeconds, rows }, null, 2),
    );
  } else {
    console.log(
      `${values.quick ? "SMOKE RUN (--quick): figures prove the path, not the capacity. " : ""}${nodes}-node sim, app capped at ${appCpus} CPU per replica, ` +
        `${plan.connections} connections, best of ${plan.rounds} rounds of ~${plan.roundSeconds} s, this machine ${cpus().length} cores`,
    );
    console.log(renderScaleTable(rows));
    console.log(`setup ${setupSeconds.toFixed(0)} s, total ${totalSeconds.toFixed(0)} s`);
  }
  const broken = rows.filter((r) => r.lost > 0 || r.extra > 0);
  if (broken.length > 0) {
    log(`counts differ from the 2xx answers at N=${broken.map((r) => r.replicas).join(", ")}`);
    process.exitCode = 1;
  }
} catch (err) {
  log(`failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
} finally {
  await closeSshMasters(join(workDir, "ansible")).catch(() => undefined);
  await simDown(simDir).catch((err) => log(`sim down failed (run: node cli/bin/pifleet.js sim down --dir ${simDir}): ${String(err)}`));
  await rm(workDir, { recursive: true, force: true });
}
