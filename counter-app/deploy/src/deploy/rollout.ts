/**
 * Reading Swarm's view of a rollout (pure): what `docker service inspect`
 * says about an update, and what the task list says about convergence.
 */

/** Swarm's UpdateStatus.State values, plus "none" for a service that was only created. */
export type UpdateState = "none" | "updating" | "paused" | "completed" | "rollback_started" | "rollback_paused" | "rollback_completed";

export type RolloutOutcome = "converged" | "rolled-back" | "paused" | "in-progress";

export interface ServiceSnapshot {
  name: string;
  update: UpdateState;
  updateMessage: string;
  /** UpdateStatus.StartedAt, to tell this rollout's update from an earlier one. */
  updateStartedAt: string;
  /** Tasks that should run, and of those, how many run the image this rollout deploys. */
  desired: number;
  running: number;
}

/** One service's outcome: Swarm's update state first, then whether every desired task runs. */
export function serviceOutcome(s: ServiceSnapshot): RolloutOutcome {
  if (s.update === "rollback_completed") return "rolled-back";
  if (s.update === "paused" || s.update === "rollback_paused") return "paused";
  if (s.update === "updating" || s.update === "rollback_started") return "in-progress";
  return s.desired > 0 && s.running >= s.desired ? "converged" : "in-progress";
}

/** The stack's outcome: any rollback or pause decides it; otherwise converged only when all are. */
export function stackOutcome(services: ServiceSnapshot[]): RolloutOutcome {
  const outcomes = services.map(serviceOutcome);
  if (outcomes.includes("rolled-back")) return "rolled-back";
  if (outcomes.includes("paused")) return "paused";
  return outcomes.length > 0 && outcomes.every((o) => o === "converged") ? "converged" : "in-progress";
}

/** Parses `docker service inspect --format '{{json .UpdateStatus}}'` ("null" for a fresh service). */
export function parseUpdateStatus(json: string): { state: UpdateState; message: string; startedAt: string } {
  const parsed = JSON.parse(json.trim() || "null") as { State?: string; Message?: string; StartedAt?: string } | null;
  const known: UpdateState[] = ["updating", "paused", "completed", "rollback_started", "rollback_paused", "rollback_completed"];
  const state = known.find((k) => k === parsed?.State) ?? "none";
  return { state, message: parsed?.Message ?? "", startedAt: parsed?.StartedAt ?? "" };
}

export interface TaskRow {
  service: string;
  node: string;
  desiredState: string;
  currentState: string;
  image: string;
  error: string;
}

/** Parses `docker stack ps --format '{{json .}}'`, one JSON object per line. */
export function parseTasks(output: string): TaskRow[] {
  return output
    .split("\n")
    .filter((l) => l.trim().startsWith("{"))
    .map((l) => {
      const t = JSON.parse(l) as Record<string, string>;
      return {
        // "pifleet_app.1", "pifleet_app.<node id>", or "\_ pifleet_app.1" for history rows.
        service: (t.Name ?? "").replace(/^\\_\s*/, "").split(".")[0] ?? "",
        node: t.Node ?? "",
        desiredState: t.DesiredState ?? "",
        currentState: t.CurrentState ?? "",
        image: t.Image ?? "",
        error: t.Error ?? "",
      };
    });
}

/**
 * Per service: tasks Swarm wants running, and how many of them run now with
 * the expected image (a task list still showing the old image is not converged).
 */
export function taskCounts(tasks: TaskRow[], expectedImage: (service: string) => string | undefined = () => undefined) {
  const out = new Map<string, { desired: number; running: number }>();
  for (const t of tasks) {
    if (t.desiredState !== "Running") continue;
    const c = out.get(t.service) ?? { desired: 0, running: 0 };
    c.desired++;
    const expected = expectedImage(t.service);
    if (t.currentState.startsWith("Running") && (expected === undefined || t.image.startsWith(expected))) c.running++;
    out.set(t.service, c);
  }
  return out;
}
