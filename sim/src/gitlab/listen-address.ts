import { isIPv4 } from "node:net";
import { InputError } from "@pifleet/fleet";

/**
 * The control API has no authentication, so the emulator may only listen where nothing but this
 * machine and the sim's own hosts can reach it: loopback, or an address in 198.18.0.0/15 (the
 * network range pifleet's sim networks use). 0.0.0.0, LAN and public addresses are refused.
 */
export function checkListenHost(host: string): void {
  if (host === "localhost" || host === "::1") return;
  if (isIPv4(host)) {
    const [a, b] = host.split(".").map(Number);
    if (a === 127 || (a === 198 && (b === 18 || b === 19))) return;
  }
  throw new InputError(
    `GitLab emulator: will not listen on ${host}: its control API is unauthenticated`,
    "Use a loopback address (127.0.0.1) or a sim network address in 198.18.0.0/15.",
  );
}
