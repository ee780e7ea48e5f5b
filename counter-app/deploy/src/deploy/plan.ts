/**
 * The app rollout plan (pure): what `docker stack deploy` of the stack pifleet
 * generates would change in what the Swarm runs now. `pifleet app plan` shows
 * it, the merge-request note includes it, and `pifleet app deploy` prints it
 * before applying it.
 */
import type { Fleet, FleetTopology } from "@pifleet/fleet";
import { appTopology } from "./cluster.js";
import { parseUpdateStatus, type TaskRow, type UpdateState } from "./rollout.js";
import { type StackImages, stackModel } from "./stack.js";

/** How Swarm replaces a service's tasks: Swarm's own words (order, failure action), one task at a time or more. */
export interface UpdatePolicy {
  order: string;
  failureAction: string;
  parallelism: number;
}

/** What one service runs, in the terms the plan compares. */
export interface ServiceSpec {
  /** Swarm's name: <stack>_<service>. */
  name: string;
  /**
   * Desired: the stack's image, a tag (Swarm pins the digest it resolves) or
   * ref@digest (an images file). Running: the image without the digest Swarm pinned.
   */
  image: string;
  mode: "global" | "replicated";
  /** Replicated services only. */
  replicas?: number;
  /** Placement constraints, sorted. */
  placement: string[];
  update: UpdatePolicy;
  /** Global services only: the nodes with a task, sorted. */
  nodes?: string[];
}

/** A service as the Swarm runs it: its spec, and where its last update stands. */
export interface SwarmService extends ServiceSpec {
  /** The image with the digest Swarm resolved and runs. */
  pinnedImage: string;
  updateState: UpdateState;
  updateMessage: string;
  /** UpdateStatus.StartedAt, to tell one rollout's update from an earlier one. */
  updateStartedAt: string;
}

export interface DesiredStack {
  stack: string;
  services: ServiceSpec[];
}

export interface SwarmState {
  stack: string;
  services: SwarmService[];
}

export type ChangedField = "image" | "mode" | "replicas" | "placement" | "nodes" | "update policy";

export interface FieldChange {
  field: ChangedField;
  from: string;
  to: string;
}

export type ServiceChange =
  | { action: "create"; service: string; spec: ServiceSpec }
  | { action: "update"; service: string; changes: FieldChange[]; update: UpdatePolicy }
  | { action: "remove"; service: string; image: string };

/** Something about the Swarm's current state a person should know before applying. */
export interface PlanWarning {
  service: string;
  message: string;
}

export interface RolloutPlan {
  stack: string;
  /** Creates and updates in the stack file's order, then removals. */
  changes: ServiceChange[];
  /** Services that run as planned already. */
  unchanged: string[];
  warnings: PlanWarning[];
}

/** The parts of a compose service the plan reads (stackModel writes them). */
interface ComposeService {
  image: string;
  deploy: {
    mode?: string;
    replicas?: number;
    placement: { constraints: string[] };
    update_config: { order: string; failure_action: string; parallelism?: number };
  };
}

/** What the stack generated from the fleet asks the Swarm to run (pure). */
export function desiredStack(fleet: Fleet, images: StackImages, stack: string, topology?: FleetTopology): DesiredStack {
  const t = appTopology(fleet, topology);
  const services: Record<string, ComposeService> = stackModel(fleet, images, stack, topology).services;
  // The global services: the LB on the LB nodes, the app on the app nodes.
  const globalNodes = (key: string) => (key === "lb" ? t.loadBalancer.nodes : t.appNodes);
  return {
    stack,
    services: Object.entries(services).map(([key, s]): ServiceSpec => {
      const global = s.deploy.mode === "global";
      return {
        name: `${stack}_${key}`,
        image: s.image,
        mode: global ? "global" : "replicated",
        ...(global
          ? {
              nodes: globalNodes(key)
                .map((n) => n.name)
                .sort(),
            }
          : { replicas: s.deploy.replicas ?? 1 }),
        placement: [...s.deploy.placement.constraints].sort(),
        update: {
          order: s.deploy.update_config.order,
          failureAction: s.deploy.update_config.failure_action,
          parallelism: s.deploy.update_config.parallelism ?? 1,
        },
      };
    }),
  };
}

/** `repo/name:tag@sha256:…` → `repo/name:tag`: Swarm pins the digest it resolved, the stack names the tag. */
export function withoutDigest(image: string): string {
  return image.replace(/@sha256:[0-9a-f]+$/, "");
}

const digestPinned = (image: string) => withoutDigest(image) !== image;

interface InspectedService {
  Spec?: {
    Name?: string;
    Mode?: { Global?: object; Replicated?: { Replicas?: number } };
    TaskTemplate?: { ContainerSpec?: { Image?: string }; Placement?: { Constraints?: string[] } };
    UpdateConfig?: { Parallelism?: number; FailureAction?: string; Order?: string };
  };
  UpdateStatus?: unknown;
}

/**
 * What the Swarm runs, from `docker service inspect SERVICE…` (a JSON array)
 * and the stack's task list (pure). Swarm's defaults fill what a spec leaves out.
 */
export function swarmState(stack: string, inspectJson: string, tasks: TaskRow[]): SwarmState {
  const inspected = JSON.parse(inspectJson) as InspectedService[];
  const services = inspected.map((s): SwarmService => {
    const spec = s.Spec ?? {};
    const name = spec.Name ?? "";
    const global = spec.Mode?.Global !== undefined;
    const status = parseUpdateStatus(JSON.stringify(s.UpdateStatus ?? null));
    const nodes = [...new Set(tasks.filter((t) => t.service === name && t.desiredState === "Running").map((t) => t.node))].sort();
    const pinnedImage = spec.TaskTemplate?.ContainerSpec?.Image ?? "";
    return {
      name,
      image: withoutDigest(pinnedImage),
      pinnedImage,
      mode: global ? "global" : "replicated",
      ...(global ? { nodes } : { replicas: spec.Mode?.Replicated?.Replicas ?? 1 }),
      placement: [...(spec.TaskTemplate?.Placement?.Constraints ?? [])].sort(),
      update: {
        order: spec.UpdateConfig?.Order ?? "stop-first",
        failureAction: spec.UpdateConfig?.FailureAction ?? "pause",
        parallelism: spec.UpdateConfig?.Parallelism ?? 1,
      },
      updateState: status.state,
      updateMessage: status.message,
      updateStartedAt: status.startedAt,
    };
  });
  return { stack, services: services.sort((a, b) => a.name.localeCompare(b.name)) };
}

export const describePolicy = (p: UpdatePolicy) => `${p.order}, ${p.parallelism} at a time, on failure ${p.failureAction}`;
const list = (items: string[] | undefined) => (items && items.length > 0 ? items.join(", ") : "none");

function fieldChanges(want: ServiceSpec, have: SwarmService): FieldChange[] {
  const changes: FieldChange[] = [];
  const compare = (field: ChangedField, from: string, to: string) => {
    if (from !== to) changes.push({ field, from, to });
  };
  // A pinned image (ref@digest, from an images file) is compared with the digest Swarm runs; a tag with the tag.
  compare("image", digestPinned(want.image) ? have.pinnedImage : have.image, want.image);
  compare("mode", have.mode, want.mode);
  if (want.mode === "replicated") compare("replicas", String(have.replicas ?? 0), String(want.replicas ?? 1));
  compare("placement", list(have.placement), list(want.placement));
  if (want.mode === "global" && have.mode === "global") compare("nodes", list(have.nodes), list(want.nodes));
  compare("update policy", describePolicy(have.update), describePolicy(want.update));
  return changes;
}

/** Why an update left half-done matters before the next one. */
function stateWarning(s: SwarmService): string | undefined {
  const message = s.updateMessage ? ` (${s.updateMessage})` : "";
  switch (s.updateState) {
    case "paused":
    case "rollback_paused":
      return `its last ${s.updateState === "paused" ? "update" : "rollback"} is paused${message}; deploying starts a new update from the spec it runs now`;
    case "updating":
    case "rollback_started":
      return `an ${s.updateState === "updating" ? "update" : "automatic rollback"} is under way${message}; deploying now replaces it`;
    case "rollback_completed":
      return `its last update was rolled back${message}; it runs the previous version`;
    default:
      return undefined;
  }
}

/** The rollout from what the Swarm runs to what the fleet asks for (pure). */
export function planRollout(desired: DesiredStack, actual: SwarmState): RolloutPlan {
  const running = new Map(actual.services.map((s) => [s.name, s]));
  const wanted = new Set(desired.services.map((s) => s.name));
  const changes: ServiceChange[] = [];
  const unchanged: string[] = [];
  const warnings: PlanWarning[] = [];
  for (const want of desired.services) {
    const have = running.get(want.name);
    if (!have) {
      changes.push({ action: "create", service: want.name, spec: want });
      continue;
    }
    const fields = fieldChanges(want, have);
    if (fields.length > 0) changes.push({ action: "update", service: want.name, changes: fields, update: want.update });
    else unchanged.push(want.name);
    const warning = stateWarning(have);
    if (warning) warnings.push({ service: want.name, message: warning });
  }
  for (const have of actual.services) {
    if (!wanted.has(have.name)) changes.push({ action: "remove", service: have.name, image: have.image });
  }
  return { stack: desired.stack, changes, unchanged, warnings };
}
