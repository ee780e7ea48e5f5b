import type { Rule, WorkflowRule } from "../model/types.js";

/** Reusable rules, named for when a job runs. */
export const when = {
  mergeRequest: { if: '$CI_PIPELINE_SOURCE == "merge_request_event"' },
  defaultBranch: { if: "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH" },
  tag: { if: "$CI_COMMIT_TAG" },
} as const satisfies Record<string, Rule>;

/**
 * Pipelines run for merge requests, the default branch and tags. A branch with
 * an open MR gets only the MR pipeline, never a second branch pipeline.
 */
export const workflowRules: readonly WorkflowRule[] = [
  { ...when.mergeRequest, when: "always" },
  { if: "$CI_COMMIT_BRANCH && $CI_OPEN_MERGE_REQUESTS", when: "never" },
  { ...when.defaultBranch, when: "always" },
  { ...when.tag, when: "always" },
];
