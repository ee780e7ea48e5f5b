import { spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { readFile, unlink, writeFile } from "node:fs/promises";
import { EnvironmentError, OperationError } from "@pifleet/fleet";
import { sleep } from "./clock.js";

/**
 * Detached daemons (the sim's GitLab emulator, lxcfs, apt-cacher-ng) outlive the command that
 * starts them and are tracked by pid files. A pid only counts as ours while /proc/PID/cmdline
 * still carries a mark we know, because pids get reused; we never signal anything else.
 *
 * node:child_process, not zx as for `run`: a daemon's output goes to a log file, not to us,
 * and nothing waits for it to exit.
 */

async function cmdlineHas(pid: number, mark: string): Promise<boolean> {
  // No /proc entry (or an empty one, a zombie's) means the process is gone.
  return (await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "")).includes(mark);
}

function isMissing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === "ENOENT";
}

async function readPidFile(pidFile: string): Promise<number | undefined> {
  try {
    const pid = Number((await readFile(pidFile, "utf8")).trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw new EnvironmentError(`cannot read pid file ${pidFile}: ${(err as Error).message}`, "Check its permissions, or remove it.");
  }
}

/** The pid recorded in pidFile if that process is still running with mark in its command line. */
export async function livePid(pidFile: string, mark: string): Promise<number | undefined> {
  const pid = await readPidFile(pidFile);
  return pid !== undefined && (await cmdlineHas(pid, mark)) ? pid : undefined;
}

/** Starts program detached (it outlives this process), output appended to logFile, pid in pidFile. */
export async function spawnDetached(program: string, args: readonly string[], logFile: string, pidFile: string): Promise<number> {
  const log = openSync(logFile, "a");
  const child = spawn(program, [...args], { detached: true, stdio: ["ignore", log, log] });
  closeSync(log);
  child.on("error", () => {
    // Reported by the caller's readiness check, which names the log file.
  });
  child.unref();
  if (child.pid === undefined) throw new OperationError(`could not start ${program}; see ${logFile}`);
  await writeFile(pidFile, String(child.pid));
  return child.pid;
}

/** SIGTERM to the daemon in pidFile if it is still ours; waits up to 5 s for it to exit. True when one was stopped. */
export async function stopPidFile(pidFile: string, mark: string): Promise<boolean> {
  const pid = await livePid(pidFile, mark);
  await unlink(pidFile).catch((err: unknown) => {
    if (!isMissing(err)) throw err;
  });
  if (pid === undefined) return false;
  try {
    process.kill(pid, "SIGTERM");
  } catch (err) {
    // It exited between the check and the signal: stopped all the same.
    if ((err as NodeJS.ErrnoException).code === "ESRCH") return true;
    throw err;
  }
  for (let i = 0; i < 50 && (await cmdlineHas(pid, mark)); i++) await sleep(100);
  return true;
}
