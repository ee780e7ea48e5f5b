import { describe, expect, it } from "vitest";
import { job } from "../model/job.js";
import { toGitlabKeys, USER_OWNED_MAPS } from "./keys.js";
import { renderPipeline } from "./render.js";

describe("camelCase → snake_case, with user-owned keys kept as written", () => {
  it("converts model keys at every depth", () => {
    expect(
      toGitlabKeys(
        {
          beforeScript: ["a"],
          artifacts: { expireIn: "1 week", reports: { coverageReport: { coverageFormat: "cobertura", path: "c.xml" } } },
        },
        "job",
      ),
    ).toEqual({
      artifacts: { expire_in: "1 week", reports: { coverage_report: { coverage_format: "cobertura", path: "c.xml" } } },
      before_script: ["a"],
    });
  });

  it("the list of user-owned maps is exactly variables, inputs, id_tokens and matrix entries", () => {
    expect(USER_OWNED_MAPS).toEqual({ variables: "variable", inputs: "input", id_tokens: "id_token", matrix: "matrix_values" });
  });

  it("job names stay as written (camelCase, upper case, colons)", () => {
    const doc = renderPipeline({ jobs: [job("buildImage", { script: ["x"] }), job("SMOKE:pi1", { script: ["x"] })] });
    expect(Object.keys(doc)).toEqual(["stages", "buildImage", "SMOKE:pi1"]);
  });

  it("variables keep their names; a variable's own {value, description} is model data", () => {
    expect(toGitlabKeys({ variables: { myVar: "1", DOCKER_HOST: { value: "tcp://x", description: "d", expand: false } } }, "job")).toEqual({
      variables: { myVar: "1", DOCKER_HOST: { value: "tcp://x", description: "d", expand: false } },
    });
  });

  it("inputs keep their names", () => {
    expect(toGitlabKeys({ include: [{ component: "c@1", inputs: { stageName: "x", BUILD_DIR: "y" } }] }, "root")).toEqual({
      include: [{ component: "c@1", inputs: { stageName: "x", BUILD_DIR: "y" } }],
    });
  });

  it("id_tokens keep their names, while the key itself becomes id_tokens", () => {
    expect(toGitlabKeys({ idTokens: { vaultIdToken: { aud: "https://vault" } } }, "job")).toEqual({
      id_tokens: { vaultIdToken: { aud: "https://vault" } },
    });
  });

  it("parallel:matrix entries keep their variable names", () => {
    expect(toGitlabKeys({ parallel: { matrix: [{ ARCH: ["arm64"], nodeVersion: "20" }] } }, "job")).toEqual({
      parallel: { matrix: [{ ARCH: ["arm64"], nodeVersion: "20" }] },
    });
  });

  it("rules:variables keep their names inside a converted rule", () => {
    expect(toGitlabKeys({ rules: [{ if: "$X", allowFailure: true, variables: { deployTarget: "x" } }] }, "job")).toEqual({
      rules: [{ if: "$X", allow_failure: true, variables: { deployTarget: "x" } }],
    });
  });
});
