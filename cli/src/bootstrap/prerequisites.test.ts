import { EnvironmentError, ExitCode } from "@pifleet/fleet";
import { describe, expect, it } from "vitest";
import { CONTROLLER_TOOLS, controllerProblems, prerequisitesError } from "./prerequisites.js";

describe("controllerProblems", () => {
  const ready = {
    missingTools: [],
    keys: [{ path: "/home/me/.ssh/pifleet_ed25519" }],
    env: [{ name: "GITLAB_TOKEN", set: true, holds: "the runner manager's token" }],
  };

  it("finds nothing to fix on a ready machine", () => {
    expect(controllerProblems(ready)).toEqual([]);
  });

  it("names every missing piece at once, each with how to get it", () => {
    const problems = controllerProblems({
      missingTools: CONTROLLER_TOOLS.filter((t) => t.program !== "ssh"),
      keys: [{ path: "/home/me/.ssh/pifleet_ed25519", problem: "ENOENT" }, { path: "/home/me/.ssh/plan" }],
      env: [{ name: "GITLAB_TOKEN", set: false, holds: "the runner manager's token" }],
    });
    expect(problems.map((p) => p.what)).toEqual([
      "ansible-playbook is not on PATH (needed for configuring the Pis)",
      "ssh-keyscan is not on PATH (needed for reading the Pis' host keys)",
      "the SSH key /home/me/.ssh/pifleet_ed25519 cannot be read (ENOENT)",
      "the environment variable GITLAB_TOKEN is not set",
    ]);
    expect(problems[0]?.fix).toContain("apt install ansible");
    expect(problems[3]?.fix).toBe("export GITLAB_TOKEN=… (the runner manager's token)");
  });

  it("is an environment error: exit 3, one line per problem", () => {
    const err = prerequisitesError(controllerProblems({ ...ready, missingTools: CONTROLLER_TOOLS.slice(0, 1) }));
    expect(err).toBeInstanceOf(EnvironmentError);
    expect(err.exitCode).toBe(ExitCode.environmentMissing);
    expect(err.message).toMatch(/^ {2}- ansible-playbook is not on PATH/m);
  });
});
