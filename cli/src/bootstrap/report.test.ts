import { describe, expect, it } from "vitest";
import { type BootstrapPlan, renderPlan, renderReach, renderVariableRows, type VariableRow, variableRows } from "./report.js";

const variable = (key: string, variable_type: "env_var" | "file", prot: boolean, masked: boolean, environment_scope = "*") => ({
  key,
  environment_scope,
  value: "the-secret-value",
  variable_type,
  protected: prot,
  masked,
  description: "",
});

describe("variableRows and renderVariableRows", () => {
  const rows = variableRows({
    create: [variable("PIFLEET_SSH_KEY", "file", true, false, "production")],
    update: [variable("GITLAB_TOKEN", "env_var", true, true, "production")],
    unchanged: [variable("PIFLEET_BUILD_PROXY", "env_var", false, false)],
    remove: [{ ...variable("PIFLEET_PLAN_TOKEN", "env_var", false, true), raw: true }],
  });

  it("keeps names and flags and drops every value", () => {
    expect(rows).toEqual<VariableRow[]>([
      { key: "PIFLEET_SSH_KEY", action: "create", variable_type: "file", environment_scope: "production", protected: true, masked: false },
      { key: "GITLAB_TOKEN", action: "update", variable_type: "env_var", environment_scope: "production", protected: true, masked: true },
      {
        key: "PIFLEET_BUILD_PROXY",
        action: "unchanged",
        variable_type: "env_var",
        environment_scope: "*",
        protected: false,
        masked: false,
      },
      { key: "PIFLEET_PLAN_TOKEN", action: "remove", variable_type: "env_var", environment_scope: "*", protected: false, masked: true },
    ]);
    expect(JSON.stringify(rows)).not.toContain("the-secret-value");
  });

  it("shows one aligned line per variable, marked by what happens to it", () => {
    expect(renderVariableRows(rows).split("\n")).toEqual([
      "  + PIFLEET_SSH_KEY      file, protected, environment production only",
      "  ~ GITLAB_TOKEN         protected, masked, environment production only",
      "  = PIFLEET_BUILD_PROXY  plain (unchanged)",
      "  - PIFLEET_PLAN_TOKEN   masked",
    ]);
  });
});

describe("renderPlan and renderReach", () => {
  it("lists the steps in the order they run", () => {
    const plan: BootstrapPlan = {
      cluster: "picluster",
      gitlab: "https://gitlab.example.com",
      project: 42,
      nodes: ["pi1", "pi2"],
      runners: 3,
      variables: [
        { key: "GITLAB_TOKEN", action: "create", variable_type: "env_var", environment_scope: "*", protected: true, masked: true },
      ],
    };
    const text = renderPlan(plan);
    expect(text).toMatch(/^Bootstrap of picluster \(GitLab https:\/\/gitlab\.example\.com, project 42\):$/m);
    expect(text.indexOf("configure  site.yml on pi1, pi2")).toBeLessThan(text.indexOf("runners    3 runners"));
    expect(text.indexOf("3 runners")).toBeLessThan(text.indexOf("+ GITLAB_TOKEN  protected, masked"));
  });

  it("says per node whether sshd's port answered", () => {
    expect(renderReach("pi1", "198.19.0.2", 22, { reachable: true, ms: 3 })).toBe("  pi1  198.19.0.2:22  reachable (3 ms)");
    expect(renderReach("pi2", "198.19.0.3", 22, { reachable: false, ms: 5000, error: "ECONNREFUSED" })).toBe(
      "  pi2  198.19.0.3:22  UNREACHABLE: ECONNREFUSED",
    );
  });
});
