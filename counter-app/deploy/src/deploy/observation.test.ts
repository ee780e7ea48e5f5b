import { InputError } from "@pifleet/fleet";
import { describe, expect, it } from "vitest";
import { testFleet } from "../test-support/fleets.js";
import { parseSwarmObservation, planObservedApp } from "./observation.js";
import { desiredStack, planRollout, swarmState } from "./plan.js";

const REGISTRY = "198.19.7.11:5000";
const IMAGES = {
  app: `${REGISTRY}/pifleet/counter:amd64-new`,
  redis: `${REGISTRY}/pifleet/counter-redis:amd64-r1`,
  loadBalancer: `${REGISTRY}/pifleet/counter-lb:amd64-l1`,
};

/** The Swarm running the desired stack with an older app image, one replica short, and an update left paused. */
function runningSwarm() {
  const fleet = testFleet();
  const inspected = desiredStack(fleet, IMAGES, "pifleet").services.map((s) => ({
    Spec: {
      Name: s.name,
      Mode: s.mode === "global" ? { Global: {} } : { Replicated: { Replicas: Math.max(0, (s.replicas ?? 1) - 1) } },
      TaskTemplate: {
        ContainerSpec: { Image: `${s.name.endsWith("_app") ? IMAGES.app.replace("new", "old") : s.image}@sha256:${"a".repeat(64)}` },
        Placement: { Constraints: s.placement },
      },
      UpdateConfig: { Parallelism: s.update.parallelism, FailureAction: s.update.failureAction, Order: s.update.order },
    },
    UpdateStatus: { State: "paused", Message: "update paused due to failure", StartedAt: "2026-11-24T10:00:00Z" },
  }));
  const tasks = fleet.nodes.map((n) => ({
    service: "pifleet_app",
    node: n.name,
    desiredState: "Running",
    currentState: "",
    image: "",
    error: "",
  }));
  return { fleet, state: swarmState("pifleet", JSON.stringify(inspected), tasks) };
}

describe("the Swarm observation", () => {
  it("plans from its JSON exactly as from the live reading", () => {
    const { fleet, state } = runningSwarm();
    const saved = parseSwarmObservation(JSON.parse(JSON.stringify(state)), "observed.json");
    const plan = planObservedApp({ registry: IMAGES }, saved, { fleet });
    expect(plan).toEqual(planRollout(desiredStack(fleet, IMAGES, "pifleet"), state));
    expect(plan.changes.some((c) => c.action === "update")).toBe(true);
    expect(plan.warnings.length).toBeGreaterThan(0);
  });

  it("refuses a file that is not one, listing every problem", () => {
    const { state } = runningSwarm();
    const broken = { stack: 7, services: [{ ...state.services[0], mode: "both", update: {} }] };
    expect(() => parseSwarmObservation(broken, "observed.json")).toThrow(InputError);
    expect(() => parseSwarmObservation(broken, "observed.json")).toThrow(
      /stack: a string[\s\S]*services\[0\]\.mode[\s\S]*services\[0\]\.update/,
    );
  });
});
