import type { Fleet } from "@pifleet/fleet";
import { desiredFromFleet } from "./desired.js";
import type { GitlabApi } from "./gitlab-api.js";
import type { NodeAccess } from "./node-access.js";
import { observe } from "./observe.js";
import { planRunners } from "./planner.js";
import type { Desired, Observed, Plan } from "./types.js";

export interface Reconciliation {
  desired: Desired;
  observed: Observed;
  plan: Plan;
}

/** Observe, then plan: the read-only half of `pifleet runners plan|apply`. */
export async function planFleet(fleet: Fleet, api: GitlabApi, nodes: NodeAccess): Promise<Reconciliation> {
  const desired = desiredFromFleet(fleet);
  const observed = await observe(desired, api, nodes);
  return { desired, observed, plan: planRunners(desired, observed) };
}
