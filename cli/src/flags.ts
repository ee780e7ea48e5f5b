import { InvalidArgumentError, Option } from "commander";

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * "90s", "10m", "1h30m", "250ms" or a bare number of seconds ("45") → milliseconds. The one duration
 * format of every pifleet flag. Throws commander's InvalidArgumentError, so a bad value is reported
 * against its flag ("option '--timeout <duration>' argument 'soon' is invalid") and exits 2.
 */
export function parseDuration(text: string): number {
  const t = text.trim();
  if (/^\d+$/.test(t)) return Number(t) * 1000;
  const parts = [...t.matchAll(/(\d+)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join("") !== t) {
    throw new InvalidArgumentError("Write a duration like 90s, 10m, 1h30m, 250ms or a number of seconds.");
  }
  return parts.reduce((ms, p) => ms + Number(p[1]) * (UNITS[p[2] as string] as number), 0);
}

/** A `--flag <duration>` option whose value is milliseconds; the help shows the default as written ("10m"). */
export function durationOption(flags: string, description: string, defaultDuration: string): Option {
  return new Option(flags, description).argParser(parseDuration).default(parseDuration(defaultDuration), JSON.stringify(defaultDuration));
}
