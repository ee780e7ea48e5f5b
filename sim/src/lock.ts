import { mkdir, open, readFile, unlink } from "node:fs/promises";
import { dirname } from "node:path";
import { OperationError } from "@pifleet/fleet";

/** Host-wide state shared by every sim on this machine (locks, pids of shared services). */
export const HOST_RUN_DIR = "/run/pifleet-sim";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs fn while holding an exclusive lock file (holding the owner's pid). A lock whose owner
 * died is taken over, so a killed `sim up` never blocks the next one.
 */
export async function withLock<T>(path: string, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
  await mkdir(dirname(path), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const handle = await open(path, "wx");
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const owner = Number((await readFile(path, "utf8").catch(() => "")).trim());
      if (owner > 0 && !alive(owner)) {
        await unlink(path).catch(() => {});
        continue;
      }
      if (Date.now() > deadline) {
        throw new OperationError(`timed out waiting for the lock ${path} (held by pid ${owner || "?"})`);
      }
      await sleep(250);
    }
  }
  try {
    return await fn();
  } finally {
    await unlink(path).catch(() => {});
  }
}
