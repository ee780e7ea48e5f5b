import { InputError } from "@pifleet/fleet";
import { describe, expect, it } from "vitest";
import { checkConfigureInput, configure } from "./configure.js";
import { threeNodeFleet } from "./test-support/fleets.js";

describe("checkConfigureInput", () => {
  const fleet = threeNodeFleet();

  it("accepts fleet nodes and role tags", () => {
    expect(() => checkConfigureInput(fleet, ["pi1", "pi3"], ["docker", "swarm"])).not.toThrow();
  });

  it("names an unknown node and lists the fleet's nodes", () => {
    expect(() => checkConfigureInput(fleet, ["pi1", "pi9"])).toThrow(
      new InputError('--limit: unknown node "pi9"', "Nodes in the fleet: pi1, pi2, pi3."),
    );
  });

  it("names an unknown tag and lists the role tags", () => {
    expect(() => checkConfigureInput(fleet, [], ["dockr"])).toThrow(/--tags: unknown tag "dockr"/);
    try {
      checkConfigureInput(fleet, [], ["dockr"]);
    } catch (err) {
      expect((err as InputError).hint).toBe(
        "Tags (one per role): base, raspberrypi, docker, registry, swarm, gitlab_runner, redis, keepalived.",
      );
    }
  });
});

describe("configure", () => {
  it("refuses to run when the fleet's SSH key is missing (exit 2), before starting Ansible", async () => {
    const run = configure({ fleet: threeNodeFleet(), workDir: "/nonexistent/never-written" });
    await expect(run).rejects.toBeInstanceOf(InputError);
    await expect(run).rejects.toThrow("ssh.privateKey /keys/id_ed25519 does not exist");
  });
});
