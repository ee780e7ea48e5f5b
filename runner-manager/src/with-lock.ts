import { hostname } from "node:os";
import type { RunnerContext } from "./context.js";
import type { LockHolder } from "./runners-lock.js";

/** Runs a runner change (read, plan, write) holding the runners lock (runners-lock.ts), when the context has one. */

export interface LockOptions {
  /** What this run is, for whoever waits on it: "pifleet runners apply". */
  command: string;
  timeoutMs: number;
  /** Lines that stay: that this run waits, and for whom; that the lock was lost. */
  log: (message: string) => void;
  env?: NodeJS.ProcessEnv;
}

/** This run as the lock's holder record: host, pid, command, start time, and the CI job when there is one. No token. */
export function thisRun(command: string, env: NodeJS.ProcessEnv, now: Date): LockHolder {
  const job = env.CI_JOB_URL;
  return { host: hostname(), pid: process.pid, command, since: now.toISOString(), ...(job ? { job } : {}) };
}

export async function withRunnersLock<T>(ctx: RunnerContext, options: LockOptions, change: () => Promise<T>): Promise<T> {
  if (!ctx.lock) return change();
  const started = Date.now();
  let waited = false;
  const held = await ctx.lock({
    holder: thisRun(options.command, options.env ?? process.env, new Date()),
    timeoutSec: options.timeoutMs / 1000,
    onWait: (m) => {
      waited = true;
      options.log(m);
    },
    onLost: options.log,
  });
  if (waited) options.log(`took the runners lock after ${((Date.now() - started) / 1000).toFixed(1)} s`);
  try {
    return await change();
  } finally {
    await held.release();
  }
}
