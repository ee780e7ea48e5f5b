import { EnvironmentError, type FleetNode, OperationError, parseFleet } from "@pifleet/fleet";
import { NodeCommandError, recordingShell } from "@pifleet/io";
import { describe, expect, it } from "vitest";
import { fleetText } from "../test-support/fleets.js";
import { onAnyManager } from "./any-manager.js";
import { stackStatus } from "./deploy.js";

/** The test fleet with three managers (pi1, pi2, pi3), as the reference fleet has. */
const threeManagers = parseFleet(
  fleetText().replace(/(name: pi[23]\n(?:.*\n){2}\s+roles: \[)swarm-worker/g, "$1swarm-manager"),
  "test-fleet.yaml",
);
const managers = threeManagers.nodes.filter((n) => n.roles.includes("swarm-manager"));
const unreachable = (node: string) =>
  new NodeCommandError(
    node,
    "list the services of stack pifleet",
    `on ${node}: cannot list the services: SSH to pi@… failed: Connection timed out`,
  );

describe("onAnyManager", () => {
  it("reads through the first manager that answers, in fleet order, and says which it skipped", async () => {
    expect(managers.map((m) => m.name)).toEqual(["pi1", "pi2", "pi3"]);
    const skipped: string[] = [];
    const asked: string[] = [];
    const answer = await onAnyManager(
      managers,
      async (m: FleetNode) => {
        asked.push(m.name);
        if (m.name === "pi1") throw unreachable("pi1");
        return m.name;
      },
      (a) => skipped.push(a.manager),
    );
    expect(answer).toBe("pi2");
    expect(asked).toEqual(["pi1", "pi2"]);
    expect(skipped).toEqual(["pi1"]);
  });

  it("stops at once on an error that is not the node's (ssh missing, a bug)", async () => {
    const asked: string[] = [];
    const read = async (m: FleetNode) => {
      asked.push(m.name);
      throw new EnvironmentError("ssh is not installed", "apt-get install openssh-client");
    };
    await expect(onAnyManager(managers, read)).rejects.toBeInstanceOf(EnvironmentError);
    expect(asked).toEqual(["pi1"]);
  });

  it("every manager failing: one manager's own error, or one error naming each", async () => {
    const [first] = managers;
    if (!first) throw new Error("no manager");
    const own = unreachable(first.name);
    await expect(onAnyManager([first], async () => Promise.reject(own))).rejects.toBe(own);
    const all = await onAnyManager(managers, async (m) => Promise.reject(unreachable(m.name))).catch((e: unknown) => e);
    expect(all).toBeInstanceOf(OperationError);
    expect((all as Error).message).toMatch(/^no Swarm manager answered: on pi1: .*; on pi2: .*; on pi3: /);
    expect((all as OperationError).hint).toContain("pi1, pi2, pi3");
  });
});

describe("stackStatus while the first manager is down", () => {
  it("reads the stack through the next manager and names it", async () => {
    const shell = recordingShell((call) => {
      if (call.node === "pi1") return { code: 255, stderr: "ssh: connect to host 198.19.7.11 port 22: Connection timed out" };
      if (call.argv?.includes("ls")) return "";
      return undefined;
    });
    const notes: string[] = [];
    const status = await stackStatus({ fleet: threeManagers, shell, progress: (m) => notes.push(m) });
    expect(status).toEqual({ manager: "pi2", services: [], tasks: [] });
    expect(shell.calls.map((c) => c.node)).toEqual(["pi1", "pi2"]);
    expect(notes).toEqual([expect.stringMatching(/^on pi1: cannot list the services of stack pifleet: SSH .* asking the next manager$/)]);
  });
});
