import { describe, expect, it } from "vitest";
import { lintText } from "./lint.js";

describe("GitLab schema findings, made readable", () => {
  it("reports one telling message per place, not every failed anyOf branch", () => {
    const text = [
      "stages: build",
      "a:",
      "  script: 5",
      "b:",
      "  script: x",
      "  needs: [{job: a, foo: 1}]",
      "  environment: {name: x, action: bogus}",
      "  retry: 5",
      "  cache: {key: 'a/b', paths: [x]}",
      "workflow:",
      "  rules: [{if: $X, when: manual}]",
    ].join("\n");
    const schema = lintText(text, "s.yml").diagnostics.filter((d) => d.check === "schema");
    expect(schema.map((d) => `${d.line}:${d.col}: ${d.message}`)).toEqual([
      "1:9: stages config should be array",
      "3:11: jobs:a:script config should be string or array",
      "6:20: jobs:b:needs:0 config contains unknown keys: foo",
      "7:34: jobs:b:environment:action config must be one of: start, prepare, stop, verify, access",
      "8:10: jobs:b:retry config must be <= 2",
      '9:16: jobs:b:cache:key config must match pattern "^[^/]*[^./][^/]*$"',
      "11:26: workflow:rules:0:when config must be one of: always, never",
    ]);
  });

  it("a stage that is not a string is named as such", () => {
    const messages = lintText("a: { stage: [build], script: [x] }", "s.yml").diagnostics.map((d) => d.message);
    expect(messages).toEqual(["jobs:a:stage config should be a string"]);
  });
});
