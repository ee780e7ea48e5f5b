import type { Logger } from "pino";

/**
 * Whether Redis takes the app's writes, from the outcome of every batch and
 * readiness probe. Logs once per change of state — not once per request — so
 * an outage of an hour is two lines, the second saying when it ended.
 */
export class WriteHealth {
  private failingSince: number | undefined;
  private failures = 0;
  private lastFailure: Error | undefined;

  /** The latest failure while writes fail; undefined while they work. */
  get failure(): Error | undefined {
    return this.failingSince === undefined ? undefined : this.lastFailure;
  }

  constructor(
    private readonly log: Pick<Logger, "warn" | "info">,
    private readonly now: () => number = Date.now,
  ) {}

  record(failure: Error | undefined): void {
    if (failure === undefined) {
      if (this.failingSince === undefined) return;
      this.log.info(
        { event: "redis.writes.ok", failedMs: this.now() - this.failingSince, failedBatches: this.failures },
        "Redis takes writes again: views are counted",
      );
      this.failingSince = undefined;
      this.failures = 0;
      return;
    }
    this.failures++;
    this.lastFailure = failure;
    if (this.failingSince !== undefined) return;
    this.failingSince = this.now();
    this.log.warn(
      { event: "redis.writes.failing", reason: failure.message },
      "Redis does not take writes: views get 503 and /readyz says so until it does. OOM: see INFO memory (maxmemory); NOREPLICAS: the replicas; a timeout: a paused or overloaded Redis",
    );
  }
}
