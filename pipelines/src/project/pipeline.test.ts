import { readFileSync } from "node:fs";
import { InputError, parseFleet } from "@pifleet/fleet";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { syntheticFleet } from "../bench/synthetic-fleet.js";
import { generateProjectPipeline } from "../generate.js";
import { lintText } from "../lint/lint.js";
import { schemaProblems } from "../lint/schema.js";
import { projectPipeline } from "./pipeline.js";
import { when } from "./rules.js";

const ROOT = new URL("../../../", import.meta.url);
const fleet = parseFleet(readFileSync(new URL("examples/fleet.yaml", ROOT), "utf8"), "examples/fleet.yaml");
const committed = readFileSync(new URL(".gitlab-ci.yml", ROOT), "utf8");
type Jobs = Record<
  string,
  { script?: string[]; rules?: Array<{ if?: string }>; tags?: string[]; resource_group?: string; needs?: string[] }
>;
const doc = parse(committed) as Jobs;
const jobNames = Object.keys(doc).filter(
  (k) => !k.startsWith(".") && !["default", "stages", "variables", "workflow", "include"].includes(k),
);

/** Whether a job runs in a merge-request pipeline: no rules, or a rule for MR events. */
function runsInMergeRequests(name: string): boolean {
  const rules = doc[name]?.rules;
  return rules === undefined || rules.some((r) => r.if === when.mergeRequest.if);
}

describe("the repository's .gitlab-ci.yml", () => {
  it("is exactly what the code generates from examples/fleet.yaml (pifleet pipeline check passes)", () => {
    expect(generateProjectPipeline(fleet, "examples/fleet.yaml").text).toBe(committed);
  });

  it("validates against GitLab's schema and lints clean with the fleet-aware checks", () => {
    expect(schemaProblems(parse(committed))).toEqual([]);
    expect(lintText(committed, ".gitlab-ci.yml", { fleet: { fleet, file: "examples/fleet.yaml" } }).diagnostics).toEqual([]);
  });

  it("MR pipelines verify and plan only: no job that changes the Pis runs for a merge request", () => {
    expect(jobNames.filter(runsInMergeRequests)).toEqual([
      "lint",
      "typecheck",
      "unit-tests",
      "pipeline-check",
      "fleet-validate",
      "configure-plan",
      "runners-plan",
      "app-plan",
      "plan-note",
    ]);
    const changing = /pifleet (configure(?! --check)|runners apply|app deploy|app build)/;
    const changers = jobNames.filter((n) => doc[n]?.script?.some((line) => changing.test(line)));
    expect(changers).toEqual(["configure", "runners-apply", "build-image", "deploy-production"]);
    for (const n of changers) expect(runsInMergeRequests(n), n).toBe(false);
  });

  it("jobs that change the fleet serialise on a resource group and run on the protected deploy pool", () => {
    for (const n of ["configure", "runners-apply", "deploy-production"]) {
      expect(doc[n]?.resource_group, n).toBeDefined();
      expect(doc[n]?.tags, n).toEqual(["deploy", "pifleet"]);
    }
  });

  it("has a readiness and a counter check per app node, each needing its own node's check", () => {
    for (const node of ["pi1", "pi2", "pi3", "pi4"]) {
      expect(doc[`ready:${node}`]?.needs).toEqual(["deploy-production"]);
      expect(doc[`counts:${node}`]?.needs).toEqual([`ready:${node}`]);
    }
  });

  it("the MR plan job posts one note keyed 'plan'", () => {
    expect(doc["plan-note"]?.script).toContain(
      'npx pifleet mr note --project "$CI_PROJECT_ID" --mr "$CI_MERGE_REQUEST_IID" --file plan.md --marker plan',
    );
  });
});

/** The pipeline kinds the workflow allows, as the predefined variables that decide the rules. */
const KINDS = {
  "merge request": [when.mergeRequest.if],
  "default branch": [when.defaultBranch.if],
  tag: [when.tag.if],
} as const;

describe("every pipeline kind is complete", () => {
  for (const [kind, trueIfs] of Object.entries(KINDS)) {
    it(`in a ${kind} pipeline, every job that runs has what it needs (GitLab would refuse the pipeline otherwise)`, () => {
      const runs = (n: string) => {
        const rules = doc[n]?.rules;
        return rules === undefined || rules.some((r) => (trueIfs as readonly string[]).includes(r.if ?? ""));
      };
      const running = jobNames.filter(runs);
      expect(running.length).toBeGreaterThan(0);
      for (const n of running)
        for (const need of doc[n]?.needs ?? []) expect(runs(need), `${n} needs ${need} in a ${kind} pipeline`).toBe(true);
    });
  }
});

describe("projectPipeline for other fleets", () => {
  it("scales to 100 nodes: two checks per node and a clean lint", () => {
    const big = syntheticFleet(fleet, 100);
    const generated = generateProjectPipeline(big, "fleet.yaml");
    expect(generated.jobCount).toBe(14 + 2 * 100);
    expect(generated.text).toContain("counts:pi100:\n  needs:\n    - ready:pi100\n");
  });

  it("says what to add when the fleet has no docker pool on arm64 nodes", () => {
    const noDocker = { ...fleet, pools: fleet.pools.filter((p) => p.executor !== "docker") };
    expect(() => projectPipeline(noDocker, { fleetPath: "fleet.yaml" })).toThrow(InputError);
    expect(() => projectPipeline(noDocker, { fleetPath: "fleet.yaml" })).toThrow(
      "the project pipeline needs a docker-executor runner pool on arm64 nodes, and the fleet has none",
    );
  });
});
