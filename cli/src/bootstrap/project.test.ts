import { EnvironmentError, type Fleet, InputError } from "@pifleet/fleet";
import { GitlabHttpError, GitlabNetworkError } from "@pifleet/io";
import { describe, expect, it } from "vitest";
import { bootstrapProject, explainGitlabRefusal, type ProjectInfo, pushInstructions } from "./project.js";

const fleetWithScope = (runnerScope: Fleet["gitlab"]["runnerScope"]) =>
  ({ gitlab: { url: "https://gitlab.example.com", runnerScope, tokenEnv: "GITLAB_TOKEN" } }) as Fleet;

describe("bootstrapProject", () => {
  it("takes --project as an id or a path, else the fleet's project runner scope", () => {
    const fleet = fleetWithScope({ type: "project", id: 42 });
    expect(bootstrapProject(fleet, "7")).toBe(7);
    expect(bootstrapProject(fleet, "pifleet/infra")).toBe("pifleet/infra");
    expect(bootstrapProject(fleet, undefined)).toBe(42);
  });

  it("needs --project when runners are registered for a group or the instance (bad input)", () => {
    expect(() => bootstrapProject(fleetWithScope({ type: "group", id: 5 }), undefined)).toThrow(InputError);
    expect(() => bootstrapProject(fleetWithScope({ type: "instance" }), "")).toThrow(/--project is needed/);
  });
});

describe("explainGitlabRefusal", () => {
  const http = (status: number) => new GitlabHttpError("GET", "/projects/42/variables", status, "");
  const explain = (err: unknown) => explainGitlabRefusal(err, "https://gitlab.example.com", 42, "GITLAB_TOKEN");

  it("a refused or unknown token, or no answer, is the environment (exit 3)", () => {
    expect(explain(http(401))).toBeInstanceOf(EnvironmentError);
    expect(explain(http(403))).toBeInstanceOf(EnvironmentError);
    expect((explain(http(403)) as Error).message).toContain("Maintainer role on project 42");
    expect(explain(new GitlabNetworkError("GET", "/x", "ECONNREFUSED"))).toBeInstanceOf(EnvironmentError);
  });

  it("an unknown project is bad input (exit 2); anything else passes through", () => {
    expect(explain(http(404))).toBeInstanceOf(InputError);
    const other = http(500);
    expect(explain(other)).toBe(other);
  });
});

describe("pushInstructions", () => {
  const files = { fleet: "fleet.yaml", knownHosts: "known_hosts" };

  it("pushes to the clone URL and default branch GitLab names", () => {
    const info: ProjectInfo = {
      path_with_namespace: "pis/infra",
      http_url_to_repo: "https://gitlab.example.com/pis/infra.git",
      ssh_url_to_repo: "git@gitlab.example.com:pis/infra.git",
      default_branch: "main",
      web_url: "https://gitlab.example.com/pis/infra",
    };
    const r = pushInstructions("https://gitlab.example.com", 42, info, files);
    expect(r).toMatchObject({ remote: info.http_url_to_repo, branch: "main" });
    expect(r.commands).toEqual([
      "pifleet pipeline generate --fleet fleet.yaml",
      "git add fleet.yaml known_hosts .gitlab-ci.yml",
      'git commit -m "pifleet: the fleet and its pipeline"',
      "git remote add gitlab https://gitlab.example.com/pis/infra.git",
      "git push gitlab HEAD:main",
    ]);
  });

  it("derives the remote from a project path when GitLab did not say, and says what to fill in otherwise", () => {
    expect(pushInstructions("https://gitlab.example.com/", "pis/infra", null, files).remote).toBe(
      "https://gitlab.example.com/pis/infra.git",
    );
    const byId = pushInstructions("https://gitlab.example.com", 42, null, files);
    expect(byId.remote).toBeNull();
    expect(byId.commands.at(-1)).toBe("git push gitlab HEAD:<the project's default branch>");
  });
});
