import { isIP } from "node:net";
import { InputError } from "@pifleet/fleet";

/**
 * The network rule (DESIGN.md): load goes to loopback or to the addresses the
 * sim creates on this machine (198.18.0.0/15), never to a LAN by accident.
 * Real Pis need the caller to say so (`anyAddress`).
 */
export function isLoadableAddress(address: string): boolean {
  if (isIP(address) !== 4) return false;
  const [a, b] = address.split(".").map(Number);
  return a === 127 || (a === 198 && (b === 18 || b === 19));
}

/** The counter's base URL, checked against the network rule (pure). */
export function loadTarget(url: string, options: { anyAddress?: boolean } = {}): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InputError(`invalid load target ${JSON.stringify(url)}`, "Give the counter's base URL, e.g. http://198.19.1.250.");
  }
  if (parsed.protocol !== "http:") throw new InputError(`load target ${url} is not http://`, "The counter's LB answers plain HTTP.");
  if (!options.anyAddress && !isLoadableAddress(parsed.hostname))
    throw new InputError(
      `refusing to load ${parsed.hostname}: not an IPv4 address in 127.0.0.0/8 or 198.18.0.0/15`,
      "Load only loopback or the sim's network; for real Pis pass --any-address.",
    );
  return parsed;
}
