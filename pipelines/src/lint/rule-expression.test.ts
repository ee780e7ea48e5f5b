import { describe, expect, it } from "vitest";
import { type Context, evaluateIf } from "./rule-expression.js";

const branchPipeline: Context = {
  otherwise: { unknown: true, maybeUnset: true },
  variables: {
    CI_PIPELINE_SOURCE: { unknown: true, excludes: ["merge_request_event"] },
    CI_DEFAULT_BRANCH: { unknown: true, identity: "default" },
    CI_COMMIT_BRANCH: { unknown: true, identity: "other" },
    CI_COMMIT_TAG: null,
    KNOWN: "v1.2",
  },
};
const at = (expression: string) => evaluateIf(expression, branchPipeline);

describe("rules:if over a kind of pipeline: true, false or maybe", () => {
  it("compares what is known and leaves open what is not", () => {
    expect(at("$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH")).toBe(false);
    expect(at("$CI_COMMIT_BRANCH != $CI_DEFAULT_BRANCH")).toBe(true);
    expect(at('$CI_PIPELINE_SOURCE == "merge_request_event"')).toBe(false);
    expect(at('$CI_PIPELINE_SOURCE == "push"')).toBe("maybe");
    expect(at("$CI_COMMIT_TAG")).toBe(false);
    expect(at("$CI_COMMIT_TAG == null")).toBe(true);
    expect(at("$CI_COMMIT_BRANCH")).toBe(true);
    expect(at("$SOMETHING")).toBe("maybe");
    expect(at("$KNOWN =~ /^v[0-9]+/")).toBe(true);
    expect(at("$KNOWN !~ /^v[0-9]+/")).toBe(false);
    expect(at("$CI_COMMIT_BRANCH =~ /^main$/")).toBe("maybe");
  });

  it("&& binds tighter than ||; parentheses group; false decides an && and true an ||", () => {
    expect(at("$CI_COMMIT_TAG || $CI_COMMIT_BRANCH && $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH")).toBe(false);
    expect(at("($CI_COMMIT_TAG || $CI_COMMIT_BRANCH) && $SOMETHING")).toBe("maybe");
    expect(at("$SOMETHING && $CI_COMMIT_TAG")).toBe(false);
    expect(at("$SOMETHING || $CI_COMMIT_BRANCH")).toBe(true);
  });

  it("what it cannot parse is maybe, never false", () => {
    expect(at("$CI_COMMIT_TAG ==")).toBe("maybe");
    expect(at("$CI_COMMIT_TAG =~ $PATTERN")).toBe("maybe");
    expect(at("($CI_COMMIT_TAG")).toBe("maybe");
    expect(at("")).toBe("maybe");
  });
});
