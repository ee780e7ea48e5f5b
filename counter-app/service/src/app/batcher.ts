/**
 * Where counts live. `add` applies a whole batch atomically per page on the
 * server (HINCRBY, never read-then-write) and returns each page's new count.
 */
export interface ViewStore {
  add(batch: ReadonlyMap<string, number>, node: string): Promise<Map<string, number>>;
}

/** Redis was unreachable or too slow; the request gets a 503. */
export class StoreUnavailableError extends Error {}

interface Waiter {
  resolve(count: number): void;
  reject(err: Error): void;
}

/**
 * Collects the views of requests arriving in the same event-loop turn and
 * sends one HINCRBY per page for all of them. HINCRBY by n returns the new
 * total v, so the waiters get v-n+1 … v: every response still carries its own
 * distinct count, and Redis sees one command per page per turn instead of one
 * per request.
 */
export class ViewBatcher {
  private pending = new Map<string, Waiter[]>();
  private scheduled = false;
  private inFlight = new Set<Promise<void>>();

  constructor(
    private readonly store: ViewStore,
    private readonly node: string,
    private readonly timeoutMs: number,
    private readonly onFlush: (size: number, seconds: number, ok: boolean) => void = () => {},
  ) {}

  /** Counts one view of `page`; resolves with that view's number. */
  count(page: string): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      const waiters = this.pending.get(page);
      if (waiters) waiters.push({ resolve, reject });
      else this.pending.set(page, [{ resolve, reject }]);
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Resolves when every batch sent so far has been answered (used on shutdown). */
  async idle(): Promise<void> {
    while (this.scheduled || this.inFlight.size > 0) {
      if (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
      else await new Promise((r) => setImmediate(r));
    }
  }

  private flush(): void {
    const batch = this.pending;
    this.pending = new Map();
    this.scheduled = false;
    const sizes = new Map([...batch].map(([page, waiters]) => [page, waiters.length]));
    const started = performance.now();
    const size = [...sizes.values()].reduce((a, b) => a + b, 0);
    const done = withTimeout(this.store.add(sizes, this.node), this.timeoutMs).then(
      (totals) => {
        this.onFlush(size, (performance.now() - started) / 1000, true);
        for (const [page, waiters] of batch) settle(waiters, totals.get(page));
      },
      (err: unknown) => {
        this.onFlush(size, (performance.now() - started) / 1000, false);
        const failure = new StoreUnavailableError(err instanceof Error ? err.message : String(err));
        for (const waiters of batch.values()) for (const w of waiters) w.reject(failure);
      },
    );
    this.inFlight.add(done);
    void done.finally(() => this.inFlight.delete(done));
  }
}

function settle(waiters: Waiter[], total: number | undefined): void {
  if (total === undefined) {
    for (const w of waiters) w.reject(new StoreUnavailableError("store returned no count for a page in the batch"));
    return;
  }
  const first = total - waiters.length + 1;
  for (const [i, w] of waiters.entries()) w.resolve(first + i);
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StoreUnavailableError(`no answer from Redis within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
