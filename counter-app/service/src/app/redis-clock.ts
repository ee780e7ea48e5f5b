/**
 * Where Redis's clock stands against ours, from a TIME round trip: the batch
 * deadline is set on Redis's clock (count-script.ts), so the app must know the
 * offset, and how far it may be off (half the round trip). The primary may be
 * another machine after a failover, so the sample is renewed every few seconds.
 */
export interface ClockSample {
  /** Redis's clock minus ours, in ms. */
  offsetMs: number;
  /** How far offsetMs may be wrong: half the round trip. */
  errorMs: number;
  /** When it was taken (our clock). */
  takenAt: number;
}

/** TIME's reply is [seconds, microseconds] as strings. */
export function sampleFrom(sentAt: number, time: unknown, receivedAt: number): ClockSample {
  if (!Array.isArray(time) || time.length !== 2) throw new Error(`unexpected TIME reply: ${JSON.stringify(time)}`);
  const redisMs = Number(time[0]) * 1000 + Number(time[1]) / 1000;
  const middle = (sentAt + receivedAt) / 2;
  return { offsetMs: redisMs - middle, errorMs: (receivedAt - sentAt) / 2, takenAt: receivedAt };
}

/** A sample this old is renewed (in the background; the old one is used meanwhile). */
export const SAMPLE_MAX_AGE_MS = 5_000;
/** A round trip this slow (a stalled Redis) tells little: the previous sample is kept. */
const SAMPLE_MAX_ROUND_TRIP_MS = 100;

/** Keeps the newer sample unless it came from a round trip too slow to trust and an older one exists. */
export function betterSample(old: ClockSample | undefined, fresh: ClockSample): ClockSample {
  if (!old || fresh.errorMs * 2 <= SAMPLE_MAX_ROUND_TRIP_MS) return fresh;
  return old;
}

/**
 * The latest time on Redis's clock at which it may still apply a batch the app
 * gives up on at `giveUpAt` (our clock): early by the sample's error, so the
 * batch is applied, if at all, no later than `giveUpAt` on our clock.
 */
export function redisDeadline(giveUpAt: number, sample: ClockSample): number {
  return giveUpAt + sample.offsetMs - sample.errorMs;
}
