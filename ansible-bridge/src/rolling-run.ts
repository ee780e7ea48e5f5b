import { type Clock, systemClock } from "@pifleet/io";
import type { NodeAction, RollPlan, RollStep } from "./rolling-plan.js";

/**
 * Runs a rolling plan one node at a time. The steps' side effects are injected (RollActions), so
 * this loop — order, stop on the first failed node, the timeline — is tested without nodes.
 */

export interface RollActions {
  /** Sets the node's Swarm availability to drain; returns what it was before (active, pause, drain). */
  drainSwarm(node: string): Promise<string>;
  /** Sets availability back to what drainSwarm found (active, or pause: a paused node's tasks are moved off before its reboot too). */
  undrainSwarm(node: string, to: "active" | "pause"): Promise<void>;
  /** Pauses the node's runners (those a person paused stay as they are) and waits for their jobs. */
  drainRunners(node: string): Promise<void>;
  /** Resumes the runners pifleet paused and waits for them to be online. */
  undrainRunners(node: string): Promise<void>;
  /** Resolves with what the timeline should say about the move (where to, how long), if anything. */
  handOff(node: string, what: string): Promise<string | undefined>;
  /** Lets the node hold `what` again once it is back. */
  release(node: string, what: string): Promise<void>;
  act(node: string, action: NodeAction, upgrade: boolean): Promise<void>;
  /** SSH, the engine, the Swarm node Ready. */
  waitHealthy(node: string): Promise<void>;
}

export interface RollEvent {
  /** ms since the roll started. */
  at: number;
  node: string;
  step: RollStep["kind"];
  phase: "start" | "done" | "failed" | "kept";
  detail?: string;
}

export interface RollReport {
  /** Nodes whose every step succeeded, in order. */
  rolled: string[];
  /** The node whose step failed (the roll stopped there: later nodes were not touched). */
  failed?: { node: string; step: RollStep["kind"]; message: string };
  notReached: string[];
  timeline: RollEvent[];
  /** When the roll started (ms since the epoch): the timeline's zero, to line it up with what clients saw. */
  startedAt: number;
  durationMs: number;
}

/** What a step reports: a detail for the timeline, and kept when it left a person's setting alone. */
type StepOutcome = { detail?: string; kept?: boolean };

async function runStep(step: RollStep, actions: RollActions, swarmBefore: Map<string, string>): Promise<StepOutcome> {
  switch (step.kind) {
    case "drain-swarm": {
      const before = await actions.drainSwarm(step.node);
      swarmBefore.set(step.node, before);
      if (before === "pause") return { detail: "was paused by a person: drained for the reboot, set back to pause after" };
      return before === "active" ? {} : { detail: `was ${before} already: left as a person set it`, kept: true };
    }
    case "undrain-swarm": {
      const before = swarmBefore.get(step.node);
      if (before !== "active" && before !== "pause")
        return { detail: `kept ${before ?? "as it was"}: pifleet did not change it`, kept: true };
      await actions.undrainSwarm(step.node, before);
      return before === "pause" ? { detail: "set back to pause, as a person had it" } : {};
    }
    case "drain-runners":
      await actions.drainRunners(step.node);
      return {};
    case "undrain-runners":
      await actions.undrainRunners(step.node);
      return {};
    case "hand-off": {
      const said = await actions.handOff(step.node, step.what);
      return { detail: said ? `${step.what}: ${said}` : step.what };
    }
    case "release":
      await actions.release(step.node, step.what);
      return { detail: step.what };
    case "act":
      await actions.act(step.node, step.action, step.upgrade);
      return { detail: step.action };
    case "wait-healthy":
      await actions.waitHealthy(step.node);
      return {};
  }
}

/**
 * Stop-on-failure threshold: zero. A failed step leaves that node as the step left it (drained,
 * runners paused) for a person to look at, and no further node is touched.
 */
export async function runRoll(
  plan: RollPlan,
  actions: RollActions,
  options: { onEvent?: (e: RollEvent) => void; clock?: Clock } = {},
): Promise<RollReport> {
  const clock = options.clock ?? systemClock;
  const started = clock.now();
  const timeline: RollEvent[] = [];
  const emit = (e: Omit<RollEvent, "at">) => {
    const event = { at: clock.now() - started, ...e };
    timeline.push(event);
    options.onEvent?.(event);
  };
  const swarmBefore = new Map<string, string>();
  const report: RollReport = { rolled: [], notReached: [], timeline, startedAt: started, durationMs: 0 };
  for (const [i, roll] of plan.nodes.entries()) {
    for (const step of roll.steps) {
      emit({ node: roll.node, step: step.kind, phase: "start" });
      try {
        const { detail, kept } = await runStep(step, actions, swarmBefore);
        emit({ node: roll.node, step: step.kind, phase: kept ? "kept" : "done", ...(detail ? { detail } : {}) });
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        emit({ node: roll.node, step: step.kind, phase: "failed", detail: message });
        report.failed = { node: roll.node, step: step.kind, message };
        report.notReached = plan.nodes.slice(i + 1).map((n) => n.node);
        report.durationMs = clock.now() - started;
        return report;
      }
    }
    report.rolled.push(roll.node);
  }
  report.durationMs = clock.now() - started;
  return report;
}

/** The largest number of nodes drained at the same time in a timeline (a roll must keep it at 1). */
export function maxDrainedAtOnce(timeline: readonly RollEvent[]): number {
  const drained = new Set<string>();
  let max = 0;
  for (const e of timeline) {
    if (e.step === "drain-swarm" && e.phase === "start") drained.add(e.node);
    if (e.step === "undrain-swarm" && e.phase !== "start") drained.delete(e.node);
    max = Math.max(max, drained.size);
  }
  return max;
}
