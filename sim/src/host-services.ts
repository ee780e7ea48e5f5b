import { mkdir, readFile } from "node:fs/promises";
import { connect } from "node:net";
import { join } from "node:path";
import { OperationError } from "@pifleet/fleet";
import { livePid, sleep, spawnDetached, stopPidFile, withFileLock } from "@pifleet/io";
import { docker } from "./sim-docker.js";

/** Host-wide state shared by every sim on this machine (locks, pids of shared services). */
export const HOST_RUN_DIR = "/run/pifleet-sim";

/**
 * Runs fn holding the host-wide lock, so starting and stopping the shared daemons, and creating
 * or removing a sim's network, never interleave between concurrent `sim up`s and `sim down`s.
 */
export function withHostLock<T>(fn: () => Promise<T>): Promise<T> {
  return withFileLock(join(HOST_RUN_DIR, "host.lock"), fn, { timeoutMs: 120_000 });
}

/**
 * Host daemons every sim on this machine shares: lxcfs (so a node's /proc/meminfo shows its
 * memory limit, not the host's) and apt-cacher-ng (so a second converge downloads nothing).
 * Whoever starts one records its pid here; the last `sim down` stops the ones a sim started.
 * A daemon that was already running (started by someone else) is used and never stopped.
 */
export const LXCFS_DIR = "/var/lib/lxcfs";
export const APT_CACHE_DIR = "/var/cache/pifleet/apt-cacher-ng";
const LOG_DIR = "/var/log/pifleet";
export const APT_PROXY_PORT = 3142;

/** /proc files lxcfs virtualises per container, bind-mounted over the node's own. */
export const LXCFS_PROC_FILES = ["cpuinfo", "diskstats", "loadavg", "meminfo", "stat", "swaps", "uptime"];

interface Service {
  name: string;
  pidFile: string;
  /** Substring of /proc/PID/cmdline proving the pid is still our daemon (pids get reused). */
  cmdlineMark: string;
}

const LXCFS: Service = { name: "lxcfs", pidFile: join(HOST_RUN_DIR, "lxcfs.pid"), cmdlineMark: join(HOST_RUN_DIR, "lxcfs.lxcfs-pid") };
const APT_CACHER: Service = { name: "apt-cacher-ng", pidFile: join(HOST_RUN_DIR, "apt-cacher-ng.pid"), cmdlineMark: APT_CACHE_DIR };

async function startService(service: Service, program: string, args: string[]): Promise<void> {
  await mkdir(LOG_DIR, { recursive: true });
  await mkdir(HOST_RUN_DIR, { recursive: true });
  await spawnDetached(program, args, join(LOG_DIR, `${service.name}.log`), service.pidFile);
}

async function lxcfsMounted(): Promise<boolean> {
  const mounts = await readFile("/proc/mounts", "utf8");
  return mounts.split("\n").some((l) => l.split(" ")[1] === LXCFS_DIR && l.includes("lxcfs"));
}

/** Mount point of a running lxcfs, starting one if none runs; undefined when lxcfs cannot run here. */
export async function ensureLxcfs(progress: (m: string) => void): Promise<string | undefined> {
  if (await lxcfsMounted()) return LXCFS_DIR;
  await mkdir(LXCFS_DIR, { recursive: true });
  progress("starting lxcfs (nodes then report their own memory in /proc/meminfo)");
  try {
    await startService(LXCFS, "lxcfs", ["-f", "-p", LXCFS.cmdlineMark, LXCFS_DIR]);
  } catch {
    return undefined;
  }
  for (let i = 0; i < 50; i++) {
    if (await lxcfsMounted()) return LXCFS_DIR;
    await sleep(100);
  }
  progress(`lxcfs did not mount ${LXCFS_DIR} (see ${LOG_DIR}/lxcfs.log); nodes will show the host's memory`);
  return undefined;
}

function portOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 1000 });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
    socket.once("timeout", () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** The default bridge's gateway: an address of this host that every container can reach. */
export async function bridgeGateway(): Promise<string> {
  return docker(["network", "inspect", "bridge", "--format", "{{(index .IPAM.Config 0).Gateway}}"]);
}

/**
 * The only host apt-cacher-ng tunnels HTTPS to (CONNECT): npm's registry, so `npm ci` in a job
 * container on a node works with https_proxy set to the apt proxy. It replaces Debian's default
 * (bugs.debian.org, changelogs.ubuntu.com): nothing else leaves through the proxy over HTTPS.
 */
export const NPM_PASSTHROUGH_PATTERN = "^registry\\.npmjs\\.org:443$";

/** apt-cacher-ng's whole configuration, on its command line (pure): what runs is what this says. */
export function aptCacherArgs(mirror: string, gateway: string): string[] {
  return [
    "-c",
    "/etc/apt-cacher-ng",
    "ForeGround=1",
    `CacheDir=${APT_CACHE_DIR}`,
    `LogDir=${LOG_DIR}`,
    `Port=${APT_PROXY_PORT}`,
    `BindAddress=127.0.0.1 ${gateway}`,
    `PidFile=${join(HOST_RUN_DIR, "apt-cacher-ng.acng-pid")}`,
    `SocketPath=${join(HOST_RUN_DIR, "apt-cacher-ng.socket")}`,
    // Debian's default picks a random mirror from a list; use the one this machine's apt uses.
    `Remap-debrep=file:deb_mirror*.gz /debian ; ${mirror}/`,
    `PassThroughPattern=${NPM_PASSTHROUGH_PATTERN}`,
  ];
}

/**
 * What ensureAptProxy does (pure), given whether a proxy answers on both addresses and the
 * arguments of the one a sim started (undefined: none of ours runs). One of ours started with
 * other arguments (an older pifleet's configuration) is restarted; one someone else started is
 * used as it is and never touched.
 */
export function aptProxyAction(
  answering: boolean,
  ours: readonly string[] | undefined,
  desired: readonly string[],
): "use" | "start" | "restart" {
  const current = ours !== undefined && ours.length === desired.length && ours.every((a, i) => a === desired[i]);
  if (ours !== undefined && !current) return "restart";
  if (answering) return "use";
  return ours === undefined ? "start" : "restart";
}

/** The arguments (argv without the program) of the apt-cacher-ng a sim started, if it still runs. */
async function runningAptCacherArgs(): Promise<string[] | undefined> {
  const pid = await livePid(APT_CACHER.pidFile, APT_CACHER.cmdlineMark);
  if (pid === undefined) return undefined;
  const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
  return cmdline.split("\0").slice(1, -1);
}

/**
 * apt-cacher-ng listening on loopback and the default bridge's gateway, with its cache outside
 * any sim dir so it survives `sim down` and is shared by every sim. Returns the proxy URLs for
 * the host (debootstrap) and for containers (image build, nodes and their job containers).
 * Call it holding the host lock.
 */
export async function ensureAptProxy(mirror: string, progress: (m: string) => void): Promise<{ host: string; nodes: string }> {
  const gateway = await bridgeGateway();
  const urls = { host: `http://127.0.0.1:${APT_PROXY_PORT}`, nodes: `http://${gateway}:${APT_PROXY_PORT}` };
  const args = aptCacherArgs(mirror, gateway);
  const answering = (await portOpen("127.0.0.1", APT_PROXY_PORT)) && (await portOpen(gateway, APT_PROXY_PORT));
  const action = aptProxyAction(answering, await runningAptCacherArgs(), args);
  if (action === "use") return urls;
  if (action === "restart") {
    progress("restarting apt-cacher-ng (its configuration changed; the cache is kept)");
    await stopPidFile(APT_CACHER.pidFile, APT_CACHER.cmdlineMark);
  } else progress(`starting apt-cacher-ng (cache ${APT_CACHE_DIR})`);
  await mkdir(APT_CACHE_DIR, { recursive: true });
  await startService(APT_CACHER, "apt-cacher-ng", args);
  for (let i = 0; i < 50; i++) {
    if (await portOpen("127.0.0.1", APT_PROXY_PORT)) return urls;
    await sleep(100);
  }
  throw new OperationError(`apt-cacher-ng did not listen on port ${APT_PROXY_PORT}; see ${LOG_DIR}/apt-cacher-ng.log`);
}

/** Stops the shared daemons a sim started; called by the last `sim down` on the machine. */
export async function stopHostServices(): Promise<string[]> {
  const stopped: string[] = [];
  if (await stopPidFile(APT_CACHER.pidFile, APT_CACHER.cmdlineMark)) stopped.push(APT_CACHER.name);
  if (await stopPidFile(LXCFS.pidFile, LXCFS.cmdlineMark)) stopped.push(LXCFS.name);
  return stopped;
}
