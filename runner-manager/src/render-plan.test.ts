import { describe, expect, it } from "vitest";
import { planToJson, renderPlanMarkdown, renderPlanText } from "./render-plan.js";
import type { Plan } from "./types.js";

const block = { name: "pifleet c/pi1/docker", url: "http://g", executor: "docker" as const, limit: 3, requestConcurrency: 2 };
const plan: Plan = {
  cluster: "c",
  actions: [
    {
      kind: "create",
      key: "pi1/docker",
      node: "pi1",
      pool: "docker",
      description: "pifleet c/pi1/docker",
      tags: ["arm64", "docker"],
      runUntagged: false,
      accessLevel: "ref_protected",
      maintenanceNote: "managed-by=pifleet cluster=c node=pi1 pool=docker",
    },
    {
      kind: "write-config",
      node: "pi1",
      settings: { concurrent: 3, checkInterval: 3, listenAddress: "198.18.0.11:9252", shutdownTimeout: 30 },
      blocks: [{ key: "pi1/docker", runnerId: null, settings: block }],
      changes: ['+ runner "pifleet c/pi1/docker"', "concurrent: 2 → 3"],
    },
    { kind: "pause", key: "pi9/docker", runnerId: 12, reason: "node pi9 has no runner pool in fleet.yaml any more" },
    { kind: "drain", key: "pi9/docker", runnerId: 12 },
    { kind: "delete", key: "pi9/docker", runnerId: 12, reason: "node pi9 has no runner pool in fleet.yaml any more" },
  ],
  notes: [{ level: "info", subject: "pi2/docker", message: "runner #4 was paused by a person in the GitLab UI — kept paused" }],
  skippedNodes: [],
};

describe("renderPlanText", () => {
  it("reads like terraform plan: a symbol per action, config changes under their node, a summary", () => {
    expect(renderPlanText(plan)).toBe(
      [
        "Runner plan for cluster c",
        "",
        "  + create       pi1/docker      tags arm64,docker, protected refs only",
        "  ~ write-config pi1             /etc/gitlab-runner/config.toml: 2 changes",
        '        + runner "pifleet c/pi1/docker"',
        "        concurrent: 2 → 3",
        "  ‖ pause        pi9/docker #12  node pi9 has no runner pool in fleet.yaml any more",
        "  … drain        pi9/docker #12  wait until it has no running job",
        "  - delete       pi9/docker #12  node pi9 has no runner pool in fleet.yaml any more",
        "",
        "Notes:",
        "  · pi2/docker: runner #4 was paused by a person in the GitLab UI — kept paused",
        "",
        "Plan: 1 to create, 0 to update, 0 token resets, 1 config write, 1 to delete.",
      ].join("\n"),
    );
  });

  it("says so when there is nothing to do", () => {
    expect(renderPlanText({ cluster: "c", actions: [], notes: [], skippedNodes: [] })).toBe(
      "Runner plan for cluster c\n\nNo changes: runners in GitLab and config.toml on every reachable node match fleet.yaml.",
    );
  });
});

describe("renderPlanMarkdown", () => {
  it("gives a table, folded config diffs and the notes", () => {
    const md = renderPlanMarkdown(plan);
    expect(md).toContain("### Runner plan — c");
    expect(md).toContain("| `+` | create | `pi1/docker` | tags arm64,docker, protected refs only |");
    expect(md).toContain("<details><summary>config.toml on pi1</summary>");
    expect(md).toContain('```diff\n+ runner "pifleet c/pi1/docker"\n~ concurrent: 2 → 3\n```');
    expect(md).toContain("- **pi2/docker**: runner #4 was paused by a person in the GitLab UI — kept paused");
  });
});

describe("planToJson", () => {
  it("is versioned and carries a summary", () => {
    const json = planToJson(plan);
    expect(json.version).toBe(1);
    expect(json.summary).toEqual({ create: 1, update: 0, resetToken: 0, writeConfig: 1, delete: 1, skippedNodes: 0 });
  });
});
