import { describe, expect, it } from "vitest";
import { parseTasks, parseUpdateStatus, type ServiceSnapshot, serviceOutcome, stackOutcome, taskCounts } from "./rollout.js";

const svc = (over: Partial<ServiceSnapshot>): ServiceSnapshot => ({
  name: "pifleet_app",
  update: "none",
  updateMessage: "",
  updateStartedAt: "",
  desired: 3,
  running: 3,
  ...over,
});

describe("serviceOutcome / stackOutcome", () => {
  it("a fresh service converges when every desired task runs", () => {
    expect(serviceOutcome(svc({}))).toBe("converged");
    expect(serviceOutcome(svc({ running: 2 }))).toBe("in-progress");
    expect(serviceOutcome(svc({ desired: 0, running: 0 }))).toBe("in-progress");
  });

  it("follows Swarm's update state", () => {
    expect(serviceOutcome(svc({ update: "updating" }))).toBe("in-progress");
    expect(serviceOutcome(svc({ update: "rollback_started" }))).toBe("in-progress");
    expect(serviceOutcome(svc({ update: "rollback_completed" }))).toBe("rolled-back");
    expect(serviceOutcome(svc({ update: "paused" }))).toBe("paused");
    expect(serviceOutcome(svc({ update: "completed", running: 1 }))).toBe("in-progress");
    expect(serviceOutcome(svc({ update: "completed" }))).toBe("converged");
  });

  it("a rollback anywhere decides the stack; otherwise all must converge", () => {
    expect(stackOutcome([svc({}), svc({ name: "pifleet_redis", desired: 1, running: 1 })])).toBe("converged");
    expect(stackOutcome([svc({ update: "rollback_completed" }), svc({ name: "pifleet_lb", running: 0 })])).toBe("rolled-back");
    expect(stackOutcome([svc({}), svc({ name: "pifleet_lb", running: 0 })])).toBe("in-progress");
    expect(stackOutcome([])).toBe("in-progress");
  });
});

describe("parsers", () => {
  it("reads UpdateStatus, null for a service never updated", () => {
    expect(parseUpdateStatus("null\n")).toEqual({ state: "none", message: "", startedAt: "" });
    expect(parseUpdateStatus('{"State":"rollback_completed","StartedAt":"2026-11-24T03:50:00Z","Message":"rollback completed"}')).toEqual({
      state: "rollback_completed",
      message: "rollback completed",
      startedAt: "2026-11-24T03:50:00Z",
    });
  });

  it("reads docker stack ps rows, naming replicated, global and history tasks by service", () => {
    const out = [
      '{"Name":"pifleet_app.k3j4h5","Node":"pi1","DesiredState":"Running","CurrentState":"Running 5 seconds ago","Image":"198.19.7.11:5000/pifleet/counter:amd64-new","Error":""}',
      '{"Name":"\\\\_ pifleet_app.k3j4h5","Node":"pi1","DesiredState":"Shutdown","CurrentState":"Shutdown 9 seconds ago","Image":"198.19.7.11:5000/pifleet/counter:amd64-old","Error":""}',
      '{"Name":"pifleet_app.a8b9c0","Node":"pi2","DesiredState":"Running","CurrentState":"Starting 1 second ago","Image":"198.19.7.11:5000/pifleet/counter:amd64-new","Error":""}',
      '{"Name":"pifleet_redis.1","Node":"pi1","DesiredState":"Running","CurrentState":"Running 1 minute ago","Image":"r","Error":""}',
    ].join("\n");
    const tasks = parseTasks(out);
    expect(tasks.map((t) => [t.service, t.node, t.desiredState])).toEqual([
      ["pifleet_app", "pi1", "Running"],
      ["pifleet_app", "pi1", "Shutdown"],
      ["pifleet_app", "pi2", "Running"],
      ["pifleet_redis", "pi1", "Running"],
    ]);
    const counts = taskCounts(tasks, (s) => (s === "pifleet_app" ? "198.19.7.11:5000/pifleet/counter:amd64-new" : undefined));
    expect(counts.get("pifleet_app")).toEqual({ desired: 2, running: 1 });
    expect(counts.get("pifleet_redis")).toEqual({ desired: 1, running: 1 });
    expect(taskCounts(tasks, () => "198.19.7.11:5000/pifleet/counter:amd64-old").get("pifleet_app")).toEqual({ desired: 2, running: 0 });
  });
});
