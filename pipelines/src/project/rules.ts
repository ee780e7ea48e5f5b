import type { Rule, WorkflowRule } from "../model/types.js";

/** Reusable rules, named for when a job runs. */
export const when = {
  mergeRequest: { if: '$CI_PIPELINE_SOURCE == "merge_request_event"' },
  /** A push to the default branch (or a run from the UI or API), not a scheduled pipeline: those observe (and upgrade, on the upgrade schedule). */
  defaultBranch: { if: '$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH && $CI_PIPELINE_SOURCE != "schedule"' },
  /** A scheduled pipeline of the default branch (hourly, say): records the fleet's state; only the upgrade schedule changes anything. */
  schedule: { if: '$CI_PIPELINE_SOURCE == "schedule" && $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH' },
  /** A scheduled pipeline whose schedule sets PIFLEET_SCHEDULE=upgrade (weekly, say): OS updates, rolled one node at a time. */
  upgradeSchedule: {
    if: '$CI_PIPELINE_SOURCE == "schedule" && $PIFLEET_SCHEDULE == "upgrade" && $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH',
  },
  tag: { if: "$CI_COMMIT_TAG" },
} as const satisfies Record<string, Rule>;

/** The first rule of a job that has no business in a scheduled pipeline. */
export const notScheduled: Rule = { if: '$CI_PIPELINE_SOURCE == "schedule"', when: "never" };

/**
 * Pipelines run for merge requests, the default branch (pushes and schedules) and tags. A branch with
 * an open MR gets only the MR pipeline, never a second branch pipeline.
 * `mergeRequestVariables` apply to every job of an MR pipeline.
 */
export function workflowRules(mergeRequestVariables: Readonly<Record<string, string>>): WorkflowRule[] {
  return [
    { ...when.mergeRequest, when: "always", variables: mergeRequestVariables },
    { if: "$CI_COMMIT_BRANCH && $CI_OPEN_MERGE_REQUESTS", when: "never" },
    { ...when.defaultBranch, when: "always" },
    { ...when.schedule, when: "always" },
    { ...when.tag, when: "always" },
  ];
}

/** The code workspaces, as the root package.json lists them (a unit test holds the two together). */
export const WORKSPACES = [
  "fleet",
  "io",
  "sim",
  "pipelines",
  "ansible-bridge",
  "runner-manager",
  "counter-app/service",
  "counter-app/deploy",
  "cli",
] as const;

/**
 * What the verify jobs test: the code, its configuration and the fixtures tests read. Not the
 * docs, not .gitlab-ci.yml (pipeline-check always runs) and not a fleet file kept in its own
 * folder, so a merge request that only edits the fleet skips them. The fleet workspace is listed
 * by its parts because a repository may keep its fleet file under fleet/ (the sim pushes
 * fleet/sim/fleet.yaml).
 */
export const CODE_CHANGES: readonly string[] = [
  "package.json",
  "package-lock.json",
  "tsconfig*.json",
  "biome.json",
  "vitest.config.ts",
  ".dockerignore",
  "scripts/**/*",
  "examples/**/*",
  "fleet/src/**/*",
  "fleet/*.json",
  ...WORKSPACES.filter((w) => w !== "fleet").map((w) => `${w}/**/*`),
];
