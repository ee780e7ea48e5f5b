import { spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { readFile, unlink, writeFile } from "node:fs/promises";
import { OperationError } from "@pifleet/fleet";
import { sleep } from "@pifleet/io";

/**
 * Detached daemons the sim starts (the GitLab emulator, lxcfs, apt-cacher-ng) are tracked by
 * pid files. A pid only counts as ours while /proc/PID/cmdline still carries a mark we know,
 * because pids get reused; we never signal anything else.
 */
async function cmdlineHas(pid: number, mark: string): Promise<boolean> {
  return (await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "")).includes(mark);
}

/** The pid recorded in pidFile if that process is still running with mark in its command line. */
export async function livePid(pidFile: string, mark: string): Promise<number | undefined> {
  const pid = Number((await readFile(pidFile, "utf8").catch(() => "")).trim());
  return pid > 0 && (await cmdlineHas(pid, mark)) ? pid : undefined;
}

/** Starts program detached (it outlives this process), output appended to logFile, pid in pidFile. */
export async function spawnDetached(program: string, args: string[], logFile: string, pidFile: string): Promise<number> {
  const log = openSync(logFile, "a");
  const child = spawn(program, args, { detached: true, stdio: ["ignore", log, log] });
  closeSync(log);
  child.on("error", () => {
    // Reported by the caller's readiness check, which names the log file.
  });
  child.unref();
  if (child.pid === undefined) throw new OperationError(`could not start ${program}; see ${logFile}`);
  await writeFile(pidFile, String(child.pid));
  return child.pid;
}

/** SIGTERM to the daemon in pidFile if it is still ours; waits up to 5 s for it to exit. */
export async function stopPidFile(pidFile: string, mark: string): Promise<boolean> {
  const pid = await livePid(pidFile, mark);
  await unlink(pidFile).catch(() => {});
  if (pid === undefined) return false;
  process.kill(pid, "SIGTERM");
  for (let i = 0; i < 50 && (await cmdlineHas(pid, mark)); i++) await sleep(100);
  return true;
}
