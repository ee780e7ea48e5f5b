import { describe, expect, it } from "vitest";
import { threeNodeFleet } from "./test-support/fleets.js";
import { planInventoryVariables, renderVarPlanMarkdown } from "./var-plan.js";

const base = threeNodeFleet();
const node = (name: string, address: string, roles: string[]) => ({ name, address, roles }) as never;

describe("planInventoryVariables", () => {
  it("changes nothing between a fleet and itself", () => {
    expect(planInventoryVariables(base, threeNodeFleet())).toEqual({ hosts: [], unchanged: ["pi1", "pi2", "pi3"] });
  });

  it("converges a new host fully, removes a dropped one, and lists what the others see change", () => {
    const head = threeNodeFleet({}, [
      node("pi1", "198.19.255.11", ["swarm-manager", "runner", "app", "redis"]),
      node("pi2", "198.19.255.12", ["swarm-worker", "runner", "app"]),
      node("pi4", "198.19.255.14", ["swarm-worker", "runner"]),
    ]);
    const plan = planInventoryVariables(base, head);
    expect(plan.hosts.map((h) => `${h.action} ${h.host}`)).toEqual(["update pi1", "update pi2", "converge pi4", "remove pi3"]);
    const pi1 = plan.hosts[0];
    // Every host's /etc/hosts and Swarm member list name the new node and drop the old one.
    expect(pi1?.action === "update" && pi1.changes.map((c) => c.name)).toEqual(
      expect.arrayContaining(["base_hosts_entries", "swarm_members"]),
    );
    const md = renderVarPlanMarkdown(plan, [{ host: "pi2", tasks: ["docker : daemon.json"] }]);
    expect(md).toContain("**pi4**: new host, full converge");
    expect(md).toContain("**pi3**: leaves the fleet: drained and removed");
    expect(md).toContain("| `swarm_members` |");
    expect(md).toContain("**pi2**: 1 task(s) would change: docker : daemon.json");
  });

  it("shows a host's own changes (roles → groups, labels) and masks secret-named variables", () => {
    const head = threeNodeFleet({ ssh: { user: "pi", privateKey: "/keys/other_key", knownHosts: "/keys/known_hosts" } }, [
      node("pi1", "198.19.255.11", ["swarm-manager", "runner", "app", "redis"]),
      node("pi2", "198.19.255.12", ["swarm-worker", "app"]),
      node("pi3", "198.19.255.13", ["swarm-worker", "runner"]),
    ]);
    const plan = planInventoryVariables(base, head);
    const pi2 = plan.hosts.find((h) => h.host === "pi2");
    expect(pi2?.action === "update" && pi2.changes.find((c) => c.name === "groups")).toEqual({
      name: "groups",
      from: JSON.stringify(["runners", "swarm_workers"]),
      to: JSON.stringify(["swarm_workers"]),
    });
    const md = renderVarPlanMarkdown(plan, null);
    expect(md).not.toContain("other_key");
    expect(md).toContain("`ansible_ssh_private_key_file` | [redacted] | [redacted] |");
    expect(md).toContain("Not checked");
  });
});
