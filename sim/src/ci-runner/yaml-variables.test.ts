import { describe, expect, it } from "vitest";
import { withYamlVariables, yamlVariablesOf } from "./yaml-variables.js";

// gitlab-ci-local 4.73's --preview keeps the global variables at the top and each job's own in the job.
const PREVIEW = `---
stages:
  - build
variables:
  GLOBAL_V: g1
  FLEET: fleet/sim/fleet.yaml
  LITERAL:
    value: keep $GLOBAL_V
    expand: false
    description: not expanded
"job a":
  variables:
    JOB_V: j $GLOBAL_V
    GLOBAL_V: overridden
  script:
    - echo hi
isolated:
  inherit:
    variables: [FLEET]
  script: [true]
none:
  inherit:
    variables: false
  script: [true]
`;

describe("the YAML variables a job gets", () => {
  it("global ones, then the job's own; inherit:variables limits the global ones", () => {
    expect(yamlVariablesOf(PREVIEW, "job a")).toEqual([
      { key: "GLOBAL_V", value: "g1", expand: true },
      { key: "FLEET", value: "fleet/sim/fleet.yaml", expand: true },
      { key: "LITERAL", value: "keep $GLOBAL_V", expand: false },
      { key: "JOB_V", value: "j $GLOBAL_V", expand: true },
      { key: "GLOBAL_V", value: "overridden", expand: true },
    ]);
    expect(yamlVariablesOf(PREVIEW, "isolated").map((v) => v.key)).toEqual(["FLEET"]);
    expect(yamlVariablesOf(PREVIEW, "none")).toEqual([]);
  });

  it("win over predefined variables, lose to project variables, and are expanded as the runner expands them", () => {
    const merged = withYamlVariables(
      [
        { key: "CI_PROJECT_NAME", value: "infra", file: false, masked: false, public: true },
        { key: "FLEET", value: "predefined loses", file: false, masked: false, public: true },
        { key: "CI_JOB_TOKEN", value: "glcbt-x", file: false, masked: true, public: false },
        { key: "JOB_V", value: "project wins", file: false, masked: true, public: false },
      ],
      [
        { key: "FLEET", value: "fleet/$CI_PROJECT_NAME.yaml", expand: true },
        { key: "LITERAL", value: "keep $FLEET", expand: false },
        { key: "JOB_V", value: "yaml loses", expand: true },
      ],
    );
    expect(merged).toEqual([
      { key: "CI_PROJECT_NAME", value: "infra", file: false, masked: false },
      { key: "FLEET", value: "fleet/infra.yaml", file: false, masked: false },
      { key: "LITERAL", value: "keep $FLEET", file: false, masked: false },
      { key: "JOB_V", value: "project wins", file: false, masked: true },
      { key: "CI_JOB_TOKEN", value: "glcbt-x", file: false, masked: true },
    ]);
  });
});
