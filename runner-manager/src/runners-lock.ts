import { OperationError } from "@pifleet/fleet";

/**
 * The runners lock: one runner change at a time across every machine that runs pifleet (a laptop, CI, a
 * second laptop). It lives on the fleet, on the primary Swarm manager (the node every run can reach over
 * SSH), as flock(1) on /run/pifleet/runners.lock, held by a live SSH session: the remote shell keeps the
 * lock's file descriptor open while it reads its stdin, so closing stdin, or the holder dying or losing its
 * connection, releases it. No stale lock is ever left to remove by hand. /run is a tmpfs: a reboot clears it.
 *
 * This file is the pure part: the remote script, the holder record and the lines the script prints.
 * The SSH session is ssh-runners-lock.ts.
 */

export const LOCK_DIR = "/run/pifleet";
/** Beside it, runners.holder: who holds the lock, written by the holder once it has it (never a token); read only while the lock is held. */
export const LOCK_FILE = `${LOCK_DIR}/runners.lock`;

/** Who holds (or wants) the lock, for a person waiting on it. */
export interface LockHolder {
  host: string;
  pid: number;
  /** What runs, in pifleet's words ("pifleet runners apply"), not argv. */
  command: string;
  /** ISO time the holder asked for the lock. */
  since: string;
  /** The CI job, when the holder is one (CI_JOB_URL). */
  job?: string;
}

export type LockEvent = { kind: "waiting"; holder?: LockHolder } | { kind: "locked" } | { kind: "timeout"; holder?: LockHolder };

export function renderHolder(holder: LockHolder): string {
  return JSON.stringify(holder);
}

const oneLine = (value: unknown, max: number): value is string => typeof value === "string" && value.length <= max && !/[\r\n]/.test(value);

/** The holder a line names; undefined for an empty or unreadable one (the holder file may be from a release, or being written). */
export function parseHolder(text: string): LockHolder | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text.trim());
  } catch {
    return undefined;
  }
  if (!value || typeof value !== "object") return undefined;
  const v = value as Record<string, unknown>;
  if (!oneLine(v.host, 255) || !oneLine(v.command, 200) || !oneLine(v.since, 40) || !Number.isInteger(v.pid)) return undefined;
  return {
    host: v.host,
    pid: v.pid as number,
    command: v.command,
    since: v.since,
    ...(oneLine(v.job, 500) ? { job: v.job } : {}),
  };
}

/** One line the lock script printed, as an event; other lines (none expected) are ignored. */
export function parseLockLine(line: string): LockEvent | undefined {
  const [word = "", ...rest] = line.split(" ");
  const holder = parseHolder(rest.join(" "));
  if (word === "locked") return { kind: "locked" };
  if (word === "waiting" || word === "timeout") return { kind: word, ...(holder ? { holder } : {}) };
  return undefined;
}

/**
 * The script the lock's SSH session runs as root. Its first stdin line is this run's holder record; then it
 * takes the lock (printing `waiting HOLDER` first when someone has it, `timeout HOLDER` and exit 1 when
 * `timeoutSec` passes), records the holder, prints `locked`, and holds the lock until its stdin closes.
 * `dir` is LOCK_DIR on a node; tests run the script locally in a temp dir.
 */
export function lockScript(timeoutSec: number, dir = LOCK_DIR): string {
  const wait = Math.max(0, Math.trunc(timeoutSec));
  const holderFile = `${dir}/runners.holder`;
  const holder = `"$(head -c 2000 ${holderFile} 2>/dev/null | head -n 1)"`;
  return [
    "set -e",
    "umask 022",
    `mkdir -p ${dir}`,
    "IFS= read -r me",
    `exec 9>>${dir}/runners.lock`,
    "if ! flock --nonblock 9; then",
    `  printf 'waiting %s\\n' ${holder}`,
    `  if ! flock --wait ${wait} 9; then printf 'timeout %s\\n' ${holder}; exit 1; fi`,
    "fi",
    `printf '%s\\n' "$me" > ${holderFile}`,
    "echo locked",
    // The shell holds fd 9 (the lock) until cat sees stdin close: a release, or the holder or its connection gone.
    // cat does not get fd 9, so a signal that ends the shell releases the lock too.
    "cat > /dev/null 9>&-",
  ].join("\n");
}

function ago(since: string, now: Date): string {
  const sec = Math.round((now.getTime() - new Date(since).getTime()) / 1000);
  return Number.isFinite(sec) && sec >= 0 ? `, ${sec} s ago` : "";
}

/** "pifleet runners apply (pid 4242 on laptop, since 2026-…Z, 12 s ago; job URL)", or that the holder is not known. */
export function describeHolder(holder: LockHolder | undefined, now: Date): string {
  if (!holder) return "another pifleet run (its holder record is not readable)";
  const job = holder.job ? `; ${holder.job}` : "";
  return `${holder.command} (pid ${holder.pid} on ${holder.host}, since ${holder.since}${ago(holder.since, now)}${job})`;
}

export function waitingMessage(node: string, holder: LockHolder | undefined, timeoutSec: number, now: Date): string {
  return `waiting up to ${Math.round(timeoutSec)} s for the runners lock on ${node} (${LOCK_FILE}), held by ${describeHolder(holder, now)}`;
}

/** The timeout, as an error a person can act on (exit 1). */
export function lockTimeoutError(node: string, holder: LockHolder | undefined, timeoutSec: number, now: Date): OperationError {
  return new OperationError(
    `the runners lock on ${node} (${LOCK_FILE}) is still held after ${Math.round(timeoutSec)} s, by ${describeHolder(holder, now)}`,
    "Another run is changing the runners; nothing was changed by this one. Rerun when it has finished, or give --lock-timeout " +
      "more time. A holder that died or lost its connection has already released the lock: there is nothing to remove by hand.",
  );
}
