import { describe, expect, it } from "vitest";
import { seedState } from "../gitlab/state.js";
import { projectGitUrl, SIM_DEFAULT_BRANCH, SIM_PROJECT_PATH, splitNul, workingTreeFiles } from "./layout.js";

describe("project layout", () => {
  it("names the project and default branch the emulator seeds", () => {
    const state = seedState(new Date());
    const project = state.projects[0];
    const group = state.groups.find((g) => g.id === project?.group_id);
    expect(`${group?.path}/${project?.path}`).toBe(SIM_PROJECT_PATH);
    expect(project?.default_branch).toBe(SIM_DEFAULT_BRANCH);
  });

  it("the git URL is GitLab's project URL, without a token or a doubled slash", () => {
    expect(projectGitUrl("http://198.19.255.1:41234")).toBe("http://198.19.255.1:41234/pifleet/infra.git");
    expect(projectGitUrl("http://127.0.0.1:1/")).toBe("http://127.0.0.1:1/pifleet/infra.git");
  });

  it("takes tracked files, drops those deleted in the working tree and the ones the push writes", () => {
    expect(workingTreeFiles(["b", "a", ".gitlab-ci.yml", "gone", "a"], ["gone"], [".gitlab-ci.yml", "fleet/sim/fleet.yaml"])).toEqual([
      "a",
      "b",
    ]);
    expect(workingTreeFiles([], [], [])).toEqual([]);
  });

  it("splits ls-files -z output, names with spaces and newlines included", () => {
    expect(splitNul("a b\0c\nd\0")).toEqual(["a b", "c\nd"]);
    expect(splitNul("")).toEqual([]);
  });
});
