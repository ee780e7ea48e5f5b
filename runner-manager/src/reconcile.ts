import type { Fleet } from "@pifleet/fleet";
import { desiredFromFleet } from "./desired.js";
import type { GitlabApi } from "./gitlab-api.js";
import type { NodeAccess } from "./node-access.js";
import { observe } from "./observe.js";
import { nodesToObserve, planRunners } from "./planner.js";
import type { Desired, Observed, Plan, PlanOptions } from "./types.js";

export interface Reconciliation {
  desired: Desired;
  observed: Observed;
  plan: Plan;
}

/** Observe once (GitLab's lists, the config.toml of the nodes the plan needs), then plan: the read-only half of every runner change. */
export async function planFleet(fleet: Fleet, api: GitlabApi, nodes: NodeAccess, options: PlanOptions = {}): Promise<Reconciliation> {
  const desired = desiredFromFleet(fleet);
  const observed = await observe(desired, api, nodes, nodesToObserve(desired, options));
  return { desired, observed, plan: planRunners(desired, observed, options) };
}
