import { InputError } from "@pifleet/fleet";

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "90s", "10m", "1h30m", "250ms" or plain seconds ("45") → milliseconds. */
export function parseDuration(text: string, what = "duration"): number {
  const t = text.trim();
  if (/^\d+$/.test(t)) return Number(t) * 1000;
  const parts = [...t.matchAll(/(\d+)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join("") !== t) {
    throw new InputError(`${what} ${JSON.stringify(text)} is not a duration`, "Write it like 90s, 10m, 1h30m or a number of seconds.");
  }
  return parts.reduce((ms, p) => ms + Number(p[1]) * (UNITS[p[2] as string] as number), 0);
}
