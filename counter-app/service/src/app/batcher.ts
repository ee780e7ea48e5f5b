/**
 * Where counts live. `add` applies a whole batch atomically on the server and
 * returns each page's new count, or throws StoreUnavailableError; it must make
 * sure the store applies nothing after `giveUpAt` (Date.now() time), the moment
 * the batcher answers the batch's views 503 if no answer came.
 */
export interface ViewStore {
  add(batch: ReadonlyMap<string, number>, node: string, giveUpAt: number): Promise<Map<string, number>>;
}

/**
 * Redis was unreachable, refused the batch or was too slow; the request gets a 503.
 * `counted` says whether the view may still be in the count: `false` whenever the
 * app can know it is not (the contract of a 503), "unknown" when the batch ran on
 * the primary but no replica confirmed it, or the connection was lost while its
 * reply was due.
 */
export class StoreUnavailableError extends Error {
  constructor(
    message: string,
    readonly counted: false | "unknown" = "unknown",
  ) {
    super(message);
  }
}

/**
 * How long after `giveUpAt` a batch's views are answered 503 when Redis has not replied:
 * the store applies nothing after giveUpAt, so a reply of a batch it did apply has this
 * long to arrive. Then one more setImmediate: a reply already read from the socket wins.
 */
export const REPLY_MARGIN_MS = 250;

export interface BatcherOptions {
  /** REDIS_TIMEOUT_MS: a batch not applied by then is not counted, and answered 503. */
  timeoutMs: number;
  /** REDIS_QUEUE_LIMIT: views waiting (to be sent, or for their reply) at most; more are refused at once. */
  queueLimit: number;
  /** Every batch and probe once answered: views in it, seconds, and the failure if any. */
  onFlush?: (size: number, seconds: number, failure: StoreUnavailableError | undefined) => void;
  /** The store applied a batch after its views were answered 503 (a clock off by more than REPLY_MARGIN_MS). */
  onLateApplied?: (size: number) => void;
}

interface Waiter {
  resolve(count: number): void;
  reject(err: Error): void;
}

/**
 * Collects the views of requests arriving in the same event-loop turn and
 * sends one batch for all of them. The store returns each page's new total v,
 * so the n waiters of a page get v-n+1 … v: every response still carries its
 * own distinct count, and Redis sees one command per turn instead of one per
 * request. Views waiting for Redis are bounded (queueLimit).
 */
export class ViewBatcher {
  private pending = new Map<string, Waiter[]>();
  private pendingViews = 0;
  /** Views sent to the store whose reply has not come back (answered or not). */
  private outstanding = 0;
  private scheduled = false;
  private inFlight = new Set<Promise<unknown>>();

  constructor(
    private readonly store: ViewStore,
    private readonly node: string,
    private readonly options: BatcherOptions,
  ) {}

  /** Counts one view of `page`; resolves with that view's number. */
  count(page: string): Promise<number> {
    if (this.outstanding + this.pendingViews >= this.options.queueLimit)
      return Promise.reject(
        new StoreUnavailableError(
          `${this.options.queueLimit} views already wait for Redis (REDIS_QUEUE_LIMIT); this one was not sent`,
          false,
        ),
      );
    this.pendingViews++;
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

  /** A batch without views: does Redis take writes now, within the timeout? (readiness) */
  async probe(): Promise<void> {
    await this.send(new Map(), 0);
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
    const size = this.pendingViews;
    this.pending = new Map();
    this.pendingViews = 0;
    this.scheduled = false;
    this.send(new Map([...batch].map(([page, waiters]) => [page, waiters.length])), size).then(
      (totals) => {
        for (const [page, waiters] of batch) settle(waiters, totals.get(page));
      },
      (err: StoreUnavailableError) => {
        for (const waiters of batch.values()) for (const w of waiters) w.reject(err);
      },
    );
  }

  /** Sends one batch; answers it by giveUpAt + REPLY_MARGIN_MS at the latest. */
  private send(sizes: ReadonlyMap<string, number>, size: number): Promise<Map<string, number>> {
    const started = performance.now();
    const giveUpAt = Date.now() + this.options.timeoutMs;
    this.outstanding += size;
    let answered = false;
    const stored = this.store.add(sizes, this.node, giveUpAt).finally(() => {
      this.outstanding -= size;
    });
    const done = new Promise<Map<string, number>>((resolve, reject) => {
      const answer = (failure: StoreUnavailableError | undefined, totals?: Map<string, number>) => {
        answered = true;
        this.options.onFlush?.(size, (performance.now() - started) / 1000, failure);
        if (failure) reject(failure);
        else resolve(totals ?? new Map());
      };
      const timer = setTimeout(
        () =>
          setImmediate(() => {
            if (!answered)
              answer(
                new StoreUnavailableError(
                  `no answer from Redis within ${this.options.timeoutMs} ms; Redis refuses the batch after that, so it was not counted`,
                  false,
                ),
              );
          }),
        giveUpAt - Date.now() + REPLY_MARGIN_MS,
      );
      stored.then(
        (totals) => {
          clearTimeout(timer);
          if (answered) this.options.onLateApplied?.(size);
          else answer(undefined, totals);
        },
        (err: unknown) => {
          clearTimeout(timer);
          if (!answered) answer(err instanceof StoreUnavailableError ? err : new StoreUnavailableError(String(err)));
        },
      );
    });
    this.inFlight.add(done);
    void done.catch(() => undefined).finally(() => this.inFlight.delete(done));
    return done;
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
