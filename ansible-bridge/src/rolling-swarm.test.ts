import { manualClock, recordingShell, type ShellCall } from "@pifleet/io";
import { describe, expect, it } from "vitest";
import { managerFor, swarmRoll } from "./rolling-swarm.js";
import { threeNodeFleet } from "./test-support/fleets.js";

const fleet = threeNodeFleet({}, [
  { name: "pi1", address: "198.19.255.11", roles: ["swarm-manager", "app"] },
  { name: "pi2", address: "198.19.255.12", roles: ["swarm-manager", "app"] },
  { name: "pi3", address: "198.19.255.13", roles: ["swarm-worker", "app"] },
]);
const waits = () => ({ timeoutMs: 10_000, pollMs: 1_000, clock: manualClock() });
const words = (c: ShellCall) => `${c.node}: ${c.argv?.join(" ")}`;

/** A manager's answers: the node's availability (and pifleet's label), then its tasks, poll after poll. */
function swarm(availability: string, tasks: string[][] = [[]]) {
  let poll = 0;
  return recordingShell((call) => {
    const argv = call.argv ?? [];
    if (argv.includes("inspect")) return availability;
    if (argv[1] === "node" && argv[2] === "ps") return (tasks[Math.min(poll++, tasks.length - 1)] ?? []).join("\n");
    return undefined;
  });
}

describe("managerFor", () => {
  it("talks to another manager than the node going down", () => {
    expect(managerFor(fleet, "pi1").name).toBe("pi2");
    expect(managerFor(fleet, "pi3").name).toBe("pi1");
  });
});

describe("swarmRoll", () => {
  it("drains an active node through another manager, labelled as pifleet's, and waits until its containers stopped", async () => {
    const shell = swarm("active <no value>", [["app.1 Running 3 minutes ago"], ["app.1 Shutdown 1 second ago"]]);
    expect(await swarmRoll(fleet, shell, waits()).drain("pi1")).toBe("active");
    const calls = shell.calls.map(words);
    expect(calls).toContain("pi2: docker node update --availability drain --label-add pifleet.rolling-drain=active pi1");
    expect(calls.filter((c) => c.startsWith("pi2: docker node ps pi1"))).toHaveLength(2);
  });

  it("leaves a node a person drained as it is, and reports it", async () => {
    const shell = swarm("drain <no value>");
    expect(await swarmRoll(fleet, shell, waits()).drain("pi3")).toBe("drain");
    expect(shell.calls.map(words).some((c) => c.includes("update"))).toBe(false);
  });

  it("takes a drain pifleet left behind (a stopped roll) as its own, so undrain sets it back", async () => {
    expect(await swarmRoll(fleet, swarm("drain true"), waits()).drain("pi3")).toBe("active");
    expect(await swarmRoll(fleet, swarm("drain pause"), waits()).drain("pi3")).toBe("pause");
  });

  it("drains a node a person paused too (its tasks still run there), recording the pause, and waits for its tasks", async () => {
    const shell = swarm("pause <no value>", [["app.3 Running 2 minutes ago"], []]);
    expect(await swarmRoll(fleet, shell, waits()).drain("pi3")).toBe("pause");
    const calls = shell.calls.map(words);
    expect(calls).toContain("pi1: docker node update --availability drain --label-add pifleet.rolling-drain=pause pi3");
    expect(calls.filter((c) => c.startsWith("pi1: docker node ps pi3"))).toHaveLength(2);
  });

  it("sets a paused node back to pause, not active", async () => {
    const shell = swarm("drain pause", [[]]);
    await swarmRoll(fleet, shell, waits()).undrain("pi3", "pause");
    expect(shell.calls.map(words)).toContain("pi1: docker node update --availability pause --label-rm pifleet.rolling-drain pi3");
  });

  it("undrains and waits until the tasks Swarm wants there run", async () => {
    const shell = swarm("active", [["lb.x Starting 1 second ago"], ["lb.x Running 1 second ago"]]);
    await swarmRoll(fleet, shell, waits()).undrain("pi3", "active");
    expect(shell.calls.map(words)).toContain("pi1: docker node update --availability active --label-rm pifleet.rolling-drain pi3");
  });

  it("gives up naming what is still running after the timeout", async () => {
    const shell = swarm("active", [["app.2 Running 1 minute ago"]]);
    await expect(swarmRoll(fleet, shell, waits()).drain("pi3")).rejects.toThrow(
      "pi3: its Swarm tasks moving away not reached after 10 s: still running: app.2 Running 1 minute ago",
    );
  });
});
