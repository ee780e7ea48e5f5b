import { randomBytes } from "node:crypto";
import type { Emulator } from "./context.js";

/**
 * The runner queue's "last update" value (GitLab keeps one per runner in Redis; one for all is
 * enough here): it changes whenever a job may have become available to some runner. A job request
 * that presents the current value is held (workhorse's long polling) until it changes or time runs out.
 */
export class RunnerQueue {
  private value = newValue();
  private readonly waiters = new Set<() => void>();

  get current(): string {
    return this.value;
  }

  /** Something changed that may give a runner a job: new value, and every held request goes on. */
  bump(): void {
    this.value = newValue();
    this.releaseAll();
  }

  /** Resolves when the value is no longer `seen`, or after `ms`. */
  waitForChange(seen: string, ms: number): Promise<void> {
    if (seen !== this.value) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
    });
  }

  /** Lets every held request go (the emulator is closing). */
  releaseAll(): void {
    for (const release of [...this.waiters]) release();
  }
}

function newValue(): string {
  return randomBytes(8).toString("hex");
}

const queues = new WeakMap<Emulator, RunnerQueue>();

export function runnerQueue(emu: Emulator): RunnerQueue {
  let queue = queues.get(emu);
  if (!queue) {
    queue = new RunnerQueue();
    queues.set(emu, queue);
  }
  return queue;
}
