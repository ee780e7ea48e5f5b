import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { OperationError } from "@pifleet/fleet";

/**
 * Files a reader never sees half-written (write-file-atomic: temp file, fsync,
 * rename), and locks: a waiting lock between runs (proper-lockfile) and a pid
 * lock held for a process's lifetime.
 */

// Both libraries are loaded on first use (together ~70 ms), so importing @pifleet/io stays cheap for
// commands that never write a file; require, because writeFileAtomicSync must stay synchronous.
const require = createRequire(import.meta.url);
let atomicLib: typeof import("write-file-atomic") | undefined;
const writeFileAtomicLib = () => {
  atomicLib ??= require("write-file-atomic") as typeof import("write-file-atomic");
  return atomicLib;
};
let lockLib: typeof import("proper-lockfile") | undefined;
const lockfile = () => {
  lockLib ??= require("proper-lockfile") as typeof import("proper-lockfile");
  return lockLib;
};

export interface WriteOptions {
  /** Set on the temp file before it replaces the target, so a 0600 file is never briefly readable by others. */
  mode?: number;
}

export async function writeFileAtomic(path: string, data: string | Buffer, options: WriteOptions = {}): Promise<void> {
  await writeFileAtomicLib()(path, data, options.mode === undefined ? {} : { mode: options.mode });
}

export function writeFileAtomicSync(path: string, data: string | Buffer, options: WriteOptions = {}): void {
  writeFileAtomicLib().sync(path, data, options.mode === undefined ? {} : { mode: options.mode });
}

/** Writes text unless the file already holds exactly it, so an unchanged generated file keeps its mtime. Returns whether it wrote. */
export async function writeIfChanged(path: string, text: string): Promise<boolean> {
  const current = await readFile(path, "utf8").catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return undefined;
    throw err;
  });
  if (current === text) return false;
  await writeFileAtomic(path, text);
  return true;
}

/** How often a waiting withFileLock tries again. */
const LOCK_POLL_MS = 250;

/** A lock not refreshed for this long belongs to a process that died, and is taken over. */
const LOCK_STALE_MS = 10_000;

/**
 * Runs fn while holding the lock `path` (a directory that proper-lockfile keeps
 * fresh while fn runs). Waits up to timeoutMs for another holder; a lock whose
 * holder died is taken over once stale.
 */
export async function withFileLock<T>(path: string, fn: () => Promise<T>, options: { timeoutMs?: number } = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  await mkdir(dirname(path), { recursive: true });
  let lost: Error | undefined;
  let release: () => Promise<void>;
  try {
    release = await lockfile().lock(path, {
      lockfilePath: path,
      realpath: false,
      stale: LOCK_STALE_MS,
      retries: { retries: Math.ceil(timeoutMs / LOCK_POLL_MS), factor: 1, minTimeout: LOCK_POLL_MS, maxTimeout: LOCK_POLL_MS },
      onCompromised: (err) => {
        lost = err;
      },
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code !== "ELOCKED") throw err;
    throw new OperationError(
      `timed out after ${Math.round(timeoutMs / 1000)} s waiting for the lock ${path}`,
      "Another pifleet run holds it; wait for that run to finish, then try again.",
    );
  }
  try {
    const result = await fn();
    if (lost)
      throw new OperationError(
        `lost the lock ${path} while working: ${lost.message}`,
        "Another run may have changed the same files; run again.",
      );
    return result;
  } finally {
    if (!lost) await release();
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function holdsLock(path: string, content: string): boolean {
  try {
    return readFileSync(path, "utf8") === content;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw err;
  }
}

/**
 * Takes the pid lock `path` for the rest of this process's life; returns its
 * release. Held by a live process → OperationError naming the pid; a lock whose
 * owner died is taken over at once (no staleness wait: the pid says it is gone).
 */
export function holdFileLock(path: string): () => void {
  mkdirSync(dirname(path), { recursive: true });
  const mine = `${process.pid}\n`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, mine, { flag: "wx", mode: 0o600 });
      return () => {
        // Only our own lock is removed: after a takeover by someone else, theirs stays.
        if (holdsLock(path, mine)) rmSync(path, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const owner = Number(readFileSync(path, "utf8").trim());
      if (Number.isInteger(owner) && owner > 0 && alive(owner)) {
        throw new OperationError(
          `the lock ${path} is held by the running process ${owner}`,
          `Stop process ${owner} first, or wait for it to end.`,
        );
      }
      rmSync(path, { force: true });
    }
  }
  throw new OperationError(
    `could not take the lock ${path}: it reappeared twice`,
    `Another process keeps taking it; remove ${path} if none should run.`,
  );
}
