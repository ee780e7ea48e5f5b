import type { OperationError } from "@pifleet/fleet";
import { GitlabHttpError } from "@pifleet/io";
import { describe, expect, it } from "vitest";
import { explainRunnerError, SCOPES_HINT } from "./connect.js";
import { coverageNotes, tagsLostByPausing } from "./coverage.js";
import { desiredFromFleet } from "./desired.js";
import { describeRunner, parseDescription, parseNote, renderNote } from "./identity.js";
import { NodeError } from "./node-access.js";
import { testFleet } from "./test-support/fleet-fixture.js";

describe("identity", () => {
  it("round-trips the description and the maintenance note, including pifleet's own pause", () => {
    const id = { cluster: "picluster", node: "pi1", pool: "arm64-docker" };
    const settings = { tags: ["arm64", "docker"], protected: true, runUntagged: false };
    expect(describeRunner(id, settings)).toBe("pifleet picluster/pi1/arm64-docker [arm64,docker; protected]");
    expect(parseDescription(describeRunner(id, settings))).toEqual(id);
    expect(parseDescription("pifleet picluster/pi1/arm64-docker")).toEqual(id);
    expect(parseDescription("pifleet picluster/pi1")).toBeUndefined();
    expect(parseNote(renderNote({ identity: id, pausedByPifleet: true }))).toEqual({ identity: id, pausedByPifleet: true });
    expect(parseNote(renderNote({ identity: id, pausedByPifleet: false }))?.pausedByPifleet).toBe(false);
    expect(parseNote("made by hand")).toBeUndefined();
  });
});

describe("explainRunnerError", () => {
  it("turns GitLab and node failures into exit-1 errors with what to do", () => {
    const denied = explainRunnerError(new GitlabHttpError("GET", "/api/v4/runners/1", 403, "403 Forbidden")) as OperationError;
    expect([denied.exitCode, denied.hint]).toEqual([1, SCOPES_HINT]);
    const node = explainRunnerError(new NodeError("pi2", "Unit gitlab-runner.service not loaded.")) as OperationError;
    expect(node.message).toBe("pi2: Unit gitlab-runner.service not loaded.");
    expect(node.hint).toContain("gitlab-runner is installed there");
    const bug = new Error("bug");
    expect(explainRunnerError(bug)).toBe(bug);
  });
});

describe("tag coverage", () => {
  const lonely = desiredFromFleet(
    testFleet({
      pools:
        "\n  - { name: docker, tags: [docker], select: { roles: [runner] } }\n  - { name: deploy, executor: shell, tags: [deploy], nodes: [pi1] }",
    }),
  );

  it("warns about a tag only one node serves, and says what to change", () => {
    expect(coverageNotes(lonely)).toEqual([
      {
        level: "warn",
        subject: "tag deploy",
        message:
          "only pi1 serves it: losing pi1 leaves jobs tagged deploy with no runner; give another node a pool with this tag in fleet.yaml",
      },
    ]);
  });

  it("warns when no active runner serves a tag right now", () => {
    const notes = coverageNotes(desiredFromFleet(testFleet()), new Map([["docker", []]]));
    expect(notes).toContainEqual({
      level: "warn",
      subject: "tag docker",
      message: "no active runner serves it right now (paused, missing or node unreachable): its jobs wait",
    });
  });

  it("knows which tags pausing a node would leave without an active runner", () => {
    const all = () => true;
    expect(tagsLostByPausing(lonely, ["pi1"], all)).toEqual(["deploy"]);
    expect(tagsLostByPausing(lonely, ["pi2"], all)).toEqual([]);
    expect(tagsLostByPausing(lonely, ["pi2"], (node) => node === "pi2")).toEqual(["docker"]);
  });
});
