import { type FleetNode, OperationError } from "@pifleet/fleet";
import { NodeCommandError } from "@pifleet/io";

/**
 * Reads the Swarm through whichever manager answers. Every manager holds the whole Swarm state, so a
 * read-only command gets the same answer from any of them; the first manager (pi1 in the reference
 * fleet) may be the very node that is down, and `pifleet app status` is what a person runs then.
 */

/** What happened on each manager tried before one answered. */
export interface ManagerAttempt {
  manager: string;
  error: string;
}

/**
 * Runs `read` on the managers in fleet order until one answers. A failure on a node (unreachable, its
 * engine down, not a manager any more, no quorum seen from it: io's NodeCommandError) moves on to the
 * next; anything else (ssh missing, a bug) stops at once. Every manager failing: the only one's own
 * error, or one error that lists each.
 */
export async function onAnyManager<T>(
  managers: readonly FleetNode[],
  read: (manager: FleetNode) => Promise<T>,
  onSkip: (attempt: ManagerAttempt) => void = () => {},
): Promise<T> {
  const failures: { manager: FleetNode; error: NodeCommandError }[] = [];
  for (const manager of managers) {
    try {
      return await read(manager);
    } catch (err) {
      if (!(err instanceof NodeCommandError)) throw err;
      failures.push({ manager, error: err });
      onSkip({ manager: manager.name, error: err.message });
    }
  }
  const [only] = failures;
  if (failures.length === 1 && only) throw only.error;
  throw new OperationError(
    `no Swarm manager answered: ${failures.map((f) => f.error.message).join("; ")}`,
    `Bring one of ${managers.map((m) => m.name).join(", ")} back (SSH and its Docker engine); a Swarm of n managers needs a majority of them up.`,
  );
}
