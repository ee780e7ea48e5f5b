import { type Fleet, type FleetNode, OperationError } from "@pifleet/fleet";
import { type Clock, type NodeShell, shellQuote, systemClock } from "@pifleet/io";
import { appTopology } from "./cluster.js";
import { type Progress, withShell } from "./deploy.js";
import { REDIS_PASSWORD_FILE } from "./redis-secret.js";
import { REDIS_MASTER_NAME, REDIS_SENTINEL_PORT } from "./stack.js";

/** What `INFO replication` says about one redis-server (pure parse). */
export interface ReplicationInfo {
  role: "master" | "slave";
  /** A replica's primary, as it was told (an address). */
  masterHost?: string;
  /** A replica is connected to its primary and not in a full resync. */
  synced: boolean;
}

export function parseReplicationInfo(text: string): ReplicationInfo {
  const fields = new Map(
    text
      .split(/\r?\n/)
      .filter((l) => l.includes(":") && !l.startsWith("#"))
      .map((l) => [l.slice(0, l.indexOf(":")), l.slice(l.indexOf(":") + 1).trim()] as const),
  );
  const role = fields.get("role");
  if (role !== "master" && role !== "slave") throw new Error(`INFO replication has no role line: ${JSON.stringify(text.slice(0, 200))}`);
  if (role === "master") return { role, synced: false };
  const masterHost = fields.get("master_host");
  return {
    role,
    ...(masterHost ? { masterHost } : {}),
    synced: fields.get("master_link_status") === "up" && fields.get("master_sync_in_progress") === "0",
  };
}

/** `SENTINEL get-master-addr-by-name` as redis-cli prints it (address, port; empty when unknown) → the address. */
export function parseMasterAddress(text: string): string | undefined {
  const address = text.split(/\r?\n/)[0]?.trim();
  return address ? address : undefined;
}

export interface RedisHandOffOptions {
  fleet: Fleet;
  shell?: NodeShell;
  clock?: Clock;
  progress?: Progress;
  /** Give up after this long (default 60 s): the sentinels may still finish the failover on their own. */
  timeoutMs?: number;
  pollMs?: number;
}

/**
 * The fleet's Redis password for redis-cli, from the file only root reads, into the environment (never an argv).
 * As the user `default`: a Redis without a password yet (no file: an empty one) lets any password log in as it.
 */
const REDIS_CLI_AUTH = `REDISCLI_AUTH="$(cat ${REDIS_PASSWORD_FILE} 2>/dev/null)"`;
/**
 * The one place redis-cli command lines are built: the TypeScript side's argv (run it as root), and the shell
 * function the hand-off script calls (`rcli HOST PORT ARGS…`). Both authenticate with the fleet's password.
 */
export const redisCli = (at: { host?: string; port: number }, ...args: string[]): string[] => [
  "sh",
  "-c",
  `${REDIS_CLI_AUTH} exec redis-cli --user default "$@"`,
  "redis-cli",
  ...(at.host ? ["-h", at.host] : []),
  "-p",
  String(at.port),
  ...args,
];
const REDIS_CLI_SHELL_FUNCTION = `${REDIS_CLI_AUTH}
export REDISCLI_AUTH
rcli() { h=$1 p=$2; shift 2; timeout 2 redis-cli --user default -h "$h" -p "$p" "$@"; }`;
const sentinelCli = (...args: string[]) => redisCli({ port: REDIS_SENTINEL_PORT }, ...args);
/** The port redis-server listens on (the redis role's default). */
const REDIS_PORT = 6379;

/** Asks the redis nodes' sentinels in turn; the first that names a primary answers. */
async function askPrimary(shell: NodeShell, redisNodes: FleetNode[]): Promise<FleetNode> {
  const tried: string[] = [];
  for (const node of redisNodes) {
    const result = await shell
      .run(node, sentinelCli("SENTINEL", "get-master-addr-by-name", REDIS_MASTER_NAME), {
        root: true,
        describe: "ask the sentinel for the Redis primary",
      })
      .catch((err: unknown) => ({ stdout: "", error: err instanceof Error ? err.message : String(err) }));
    const address = parseMasterAddress(result.stdout);
    const primary = redisNodes.find((n) => n.address === address);
    if (primary) return primary;
    tried.push(`${node.name}: ${"error" in result ? result.error : address ? `names ${address}, not a redis node` : "knows no primary"}`);
  }
  throw new OperationError(
    `no sentinel named the Redis primary (${tried.join("; ")})`,
    "Check redis-sentinel on the redis nodes (systemctl status redis-sentinel), or run pifleet configure --tags redis.",
  );
}

/** Hook for rolling changes: which node holds the Redis primary now, by the sentinels. */
export async function redisPrimary(options: Omit<RedisHandOffOptions, "clock" | "timeoutMs" | "pollMs">): Promise<FleetNode> {
  const { redisNodes } = appTopology(options.fleet);
  return withShell(options, (shell) => askPrimary(shell, redisNodes));
}

/** A redis-server as the hand-off script reaches it from the node it runs on. */
export interface RedisAddress {
  host: string;
  port: number;
}

/** What the node-side hand-off needs: the leaving primary's own ports, and the other redis nodes. */
export interface HandOffScriptTarget {
  /** The leaving primary's redis-server port on the node the script runs on (127.0.0.1). */
  redisPort: number;
  /** A sentinel on the node the script runs on, to send SENTINEL FAILOVER to. */
  sentinelPort: number;
  masterName: string;
  /** The replicas, one of which the sentinels promote. */
  others: readonly RedisAddress[];
  /** The script gives up (and lets writes go) after this long. */
  timeoutMs: number;
}

/**
 * The script's exit code when the sentinel refused the failover with NOGOODSLAVE (writes let go, nothing changed):
 * a sentinel judges a replica only by an INFO under 30 s old, and just after it or the replica restarted it may
 * have none yet. Measured on the sim right after `configure --tags redis`. Worth another try a second later.
 */
const NO_REPLICA_YET_EXIT = 75;
/** The longest the old primary holds writes: a safety net if even the script's trap never runs. */
const WRITE_PAUSE_MS = 30_000;
/** How often the script asks the replicas whether one was promoted: each poll interval is time writes are held. */
const ROLE_POLL_S = "0.02";

/**
 * The node-side half of a planned Redis hand-off, one POSIX sh script so no SSH round trip sits between its
 * steps (each one is time the writes are held):
 *
 * 1. CLIENT PAUSE WRITE on the primary: writes wait instead of landing where a failover would drop them;
 * 2. until every replica has applied the primary's whole stream (so the promoted one lacks no write);
 * 3. SENTINEL FAILOVER on the local sentinel;
 * 4. ask the replicas directly every 20 ms: the chosen one is a primary whose previous replication id is the
 *    leaving primary's as soon as the sentinel sends it REPLICAOF NO ONE, a second or more before the
 *    sentinels announce the switch (a node that just restarted is a primary too, but of nothing);
 * 5. REPLICAOF that replica, then UNPAUSE: the held writes run on a replica and are refused READONLY (never
 *    run, so the app sends them again to the new primary).
 *
 * A trap lets the writes go on every way out. It prints `at <step> <ms since the pause>` lines and a last
 * `primary <host> <port>` line (parseHandOffOutput). Pure: the target's addresses are parameters, so the same
 * text runs on a Pi over SSH and on loopback in a test.
 */
export function redisHandOffScript(t: HandOffScriptTarget): string {
  const here = `127.0.0.1 ${t.redisPort}`;
  // One line per replica: whichever the sentinel promoted is the new primary.
  const askRoles = t.others
    .map((o) => `  is_promoted ${shellQuote(o.host)} ${o.port} && { echo ${shellQuote(`${o.host} ${o.port}`)}; return; }`)
    .join("\n");
  const seconds = Math.round(t.timeoutMs / 1000);
  return `set -u
${REDIS_CLI_SHELL_FUNCTION}
ms() { date +%s%3N; }
t0=$(ms)
deadline=$((t0 + ${t.timeoutMs}))
late() { [ "$(ms)" -gt "$deadline" ]; }
field() { tr -d '\\r' | sed -n "s/^$1://p"; }
# Every replica attached to the primary has applied all the primary sent (asked directly: a replica reports its
# offset to the primary only once a second). Writes are held, so the primary's offset stands still.
caught_up() {
  info=$(rcli ${here} INFO replication) || return 1
  sent=$(printf '%s\\n' "$info" | field master_repl_offset)
  replicas=$(printf '%s\\n' "$info" | tr -d '\\r' | sed -n 's/^slave[0-9]*:ip=\\([^,]*\\),port=\\([0-9]*\\),.*/\\1 \\2/p' | tr ' ' :)
  [ -n "$sent" ] && [ -n "$replicas" ] || return 1
  for r in $replicas; do
    applied=$(rcli "\${r%:*}" "\${r##*:}" INFO replication 2>/dev/null | field slave_repl_offset)
    [ -n "$applied" ] && [ "$applied" -ge "$sent" ] || return 1
  done
}
# The replica the sentinel promoted: a primary now, whose previous replication id (master_replid2) is the
# leaving primary's. A node that merely restarted (a roll reboots them one by one) is a primary of nothing
# until the sentinels reconfigure it, with a new id of its own: saying "master" alone would name it.
is_promoted() {
  info=$(rcli "$1" "$2" INFO replication 2>/dev/null) || return 1
  [ "$(printf '%s\\n' "$info" | field role)" = master ] && [ "$(printf '%s\\n' "$info" | field master_replid2)" = "$replid" ]
}
promoted() {
${askRoles}
  return 1
}
trap 'rcli ${here} CLIENT UNPAUSE >/dev/null 2>&1' EXIT
trap 'exit 1' HUP INT TERM
rcli ${here} CLIENT PAUSE ${WRITE_PAUSE_MS} WRITE >/dev/null || { echo "could not hold writes (CLIENT PAUSE) on port ${t.redisPort}" >&2; exit 1; }
until caught_up; do
  if late; then echo "the replicas did not catch up within ${seconds} s" >&2; exit 1; fi
  sleep 0.01
done
echo "at caught-up $(($(ms) - t0))"
replid=$(rcli ${here} INFO replication | field master_replid)
[ -n "$replid" ] || { echo "could not read the primary's replication id (INFO replication)" >&2; exit 1; }
said=$(rcli 127.0.0.1 ${t.sentinelPort} SENTINEL FAILOVER ${shellQuote(t.masterName)} 2>&1)
case "$said" in
  OK) ;;
  NOGOODSLAVE*) echo "the sentinel has no replica it may promote yet: $said" >&2; exit ${NO_REPLICA_YET_EXIT} ;;
  *) echo "SENTINEL FAILOVER ${t.masterName} was refused: $said" >&2; exit 1 ;;
esac
echo "at failover-sent $(($(ms) - t0))"
until new=$(promoted); do
  if late; then echo "no replica became the primary within ${seconds} s of SENTINEL FAILOVER" >&2; exit 1; fi
  sleep ${ROLE_POLL_S}
done
echo "at promoted $(($(ms) - t0))"
rcli ${here} REPLICAOF $new >/dev/null || { echo "REPLICAOF $new failed" >&2; exit 1; }
rcli ${here} CLIENT UNPAUSE >/dev/null
echo "at following $(($(ms) - t0))"
echo "primary $new"
`;
}

/** What the hand-off script printed: the new primary, and when each step ended (ms after the pause). */
export interface HandOffOutput {
  primary: RedisAddress;
  steps: { step: string; ms: number }[];
}

export function parseHandOffOutput(stdout: string): HandOffOutput {
  const lines = stdout.split(/\r?\n/);
  const steps = lines.flatMap((l) => {
    const m = l.match(/^at (\S+) (\d+)$/);
    return m ? [{ step: m[1] as string, ms: Number(m[2]) }] : [];
  });
  const primary = lines.map((l) => l.match(/^primary (\S+) (\d+)$/)).find((m) => m);
  if (!primary) throw new Error(`the hand-off script named no new primary: ${JSON.stringify(stdout.slice(-300))}`);
  return { primary: { host: primary[1] as string, port: Number(primary[2]) }, steps };
}

/** "writes held 212 ms (caught up 3, failover sent 9, promoted 205, following 212)" for the roll's timeline. */
export function describeHandOff(out: HandOffOutput): string {
  const held = out.steps.at(-1)?.ms ?? 0;
  return `writes held ${held} ms (${out.steps.map((s) => `${s.step.replace("-", " ")} ${s.ms}`).join(", ")})`;
}

/**
 * Hook for rolling changes: before `node` goes down on purpose, make sure it does not hold the
 * Redis primary. When it does, the node-side script (redisHandOffScript) holds writes, fails over and
 * points `node` at the new primary; then this waits until `node` is that primary's replica, connected
 * and not resyncing, and the sentinels name the new primary. Returns the primary afterwards, whether
 * it moved, and the script's step times.
 *
 * Why the pause: SENTINEL FAILOVER alone leaves the old primary taking writes until the sentinels
 * reconfigure it, seconds later; a replica still following it confirms them (WAIT), and both then
 * resync from the new primary and drop them. Measured on loopback (3 redis-server, 3 sentinels,
 * 8 writers with WAIT 1): 12,458 of 193,490 acknowledged counts lost without the pause, none with it.
 */
export async function handOffRedisPrimary(
  node: string,
  options: RedisHandOffOptions,
): Promise<{ moved: boolean; primary: FleetNode; detail?: string }> {
  const { redisNodes } = appTopology(options.fleet);
  const leaving = redisNodes.find((n) => n.name === node);
  if (!leaving) return { moved: false, primary: await redisPrimary(options) };
  const { clock = systemClock, progress = () => {}, timeoutMs = 60_000, pollMs = 500 } = options;
  return withShell(options, async (shell) => {
    const before = await askPrimary(shell, redisNodes);
    if (before.name !== node) return { moved: false, primary: before };
    const others = redisNodes.filter((n) => n.name !== node);
    if (others.length === 0) throw new OperationError(`${node} is the only Redis node: there is no replica to hand the primary to`);
    const redis = (describe: string, ...args: string[]) =>
      shell.run(leaving, redisCli({ port: REDIS_PORT }, ...args), { root: true, describe });
    const deadline = clock.now() + timeoutMs;
    progress(`Redis: handing the primary on ${node} to a replica (writes held, SENTINEL FAILOVER)`);
    const script = redisHandOffScript({
      redisPort: REDIS_PORT,
      sentinelPort: REDIS_SENTINEL_PORT,
      masterName: REDIS_MASTER_NAME,
      others: others.map((n) => ({ host: n.address, port: REDIS_PORT })),
      timeoutMs: Math.min(timeoutMs, 20_000),
    });
    let said: HandOffOutput | undefined;
    while (!said) {
      let result: { code: number; stdout: string; stderr: string };
      try {
        result = await shell.script(leaving, script, { root: true, allowFailure: true, describe: "hand the Redis primary to a replica" });
      } finally {
        // The script lets writes go on every way out; this covers a lost SSH connection too.
        await redis("let the held writes go", "CLIENT", "UNPAUSE").catch(() => undefined);
      }
      if (result.code === 0) said = parseHandOffOutput(result.stdout);
      else if (result.code !== NO_REPLICA_YET_EXIT || clock.now() >= deadline)
        throw new OperationError(
          `handing the Redis primary on ${node} to a replica failed (exit ${result.code}): ${result.stderr.trim() || result.stdout.trim()}`,
          `Writes on ${node} were let go. Look at the sentinels (redis-cli -p ${REDIS_SENTINEL_PORT} SENTINEL REPLICAS ${REDIS_MASTER_NAME}) and their log (/var/log/redis/redis-sentinel.log), then run pifleet upgrade again.`,
        );
      else {
        progress(`Redis: ${result.stderr.trim()}; trying again in 1 s`);
        await clock.sleep(1000);
      }
    }
    const next = others.find((n) => n.address === said.primary.host);
    if (!next) throw new OperationError(`the hand-off script named ${said.primary.host} as the primary, not a redis node of the fleet`);
    let last = `${next.name} is the primary by its ROLE`;
    while (clock.now() < deadline) {
      const info = parseReplicationInfo((await redis("read the old primary's replication state", "INFO", "replication")).stdout);
      // The other nodes' sentinels first: the one that ran the failover names the new primary before the rest.
      const named = await askPrimary(shell, [...others, leaving]).catch(() => undefined);
      if (info.role === "slave" && info.masterHost === next.address && info.synced && named?.name === next.name) {
        progress(`Redis: ${next.name} is the primary; ${node} replicates it`);
        return { moved: true, primary: next, detail: describeHandOff(said) };
      }
      last = `the sentinels name ${named?.name ?? "no primary"}; ${node} is ${info.role === "slave" ? `a replica of ${info.masterHost}, ${info.synced ? "synced" : "still syncing"}` : "still a primary"}`;
      await clock.sleep(pollMs);
    }
    throw new OperationError(
      `the Redis primary did not settle on ${next.name} within ${Math.round(timeoutMs / 1000)} s (${last})`,
      `Look at the sentinels' log on the redis nodes (/var/log/redis/redis-sentinel.log); do not take ${node} down until it is a synced replica.`,
    );
  });
}
