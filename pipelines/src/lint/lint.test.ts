import { readFileSync } from "node:fs";
import { parseFleet } from "@pifleet/fleet";
import { describe, expect, it } from "vitest";
import { lintText } from "./lint.js";

const CASES = new URL("./test-cases/", import.meta.url);
const fleet = parseFleet(readFileSync(new URL("../../../examples/fleet.yaml", import.meta.url), "utf8"), "examples/fleet.yaml");

/** Lints a fixture as `pifleet pipeline lint` does; fleet-aware checks only for fleet-* fixtures. */
function lint(name: string): string[] {
  const file = `invalid/${name}.yml`;
  const text = readFileSync(new URL(file, CASES), "utf8");
  const withFleet = name.startsWith("fleet-") ? { fleet: { fleet, file: "examples/fleet.yaml" } } : {};
  return lintText(text, file, withFleet).diagnostics.map((d) => `${d.file}:${d.line}:${d.col}: ${d.message}`);
}

// One failing fixture per check, with the full message GitLab (or pifleet) prints.
const EXPECTED: Record<string, string[]> = {
  "unknown-stage": [
    "invalid/unknown-stage.yml:3:10: compile job: chosen stage biuld does not exist; available stages are .pre, build, test, .post",
  ],
  "undefined-need": ["invalid/undefined-need.yml:6:18: test job: undefined need: compile"],
  "need-in-later-stage": ["invalid/need-in-later-stage.yml:3:11: build job: need test is not defined in current or prior stages"],
  "duplicate-needs": ["invalid/duplicate-needs.yml:9:10: test has the following needs duplicated: build, lint."],
  "circular-needs": ["invalid/circular-needs.yml:3:10: The pipeline has circular dependencies: a -> c -> b -> a"],
  "self-dependency": ["invalid/self-dependency.yml:3:10: self-dependency: build"],
  "undefined-dependency": ["invalid/undefined-dependency.yml:6:18: test job: undefined dependency: biuld"],
  "name-too-long": [`invalid/name-too-long.yml:2:3: n${"a".repeat(39)}… job: name is too long (maximum is 255 characters)`],
  "too-many-needs": [
    "invalid/too-many-needs.yml:157:5: all: one job can only need 50 others, but you have listed 51. See needs keyword documentation for more details",
  ],
  "matrix-too-large": ["invalid/matrix-too-large.yml:4:7: jobs:test:parallel:matrix config generates too many jobs (maximum is 200)"],
  "extends-too-deep": ["invalid/extends-too-deep.yml:45:12: job: nesting too deep in `extends`"],
  "extends-circular": [
    "invalid/extends-circular.yml:2:12: .a: circular dependency detected in `extends`",
    "invalid/extends-circular.yml:5:12: .b: circular dependency detected in `extends`",
  ],
  "extends-unknown": ["invalid/extends-unknown.yml:2:12: test: unknown keys in `extends` (.node)"],
  "no-script": ["invalid/no-script.yml:2:3: jobs:build config should implement the script:, run:, or trigger: keyword"],
  "no-visible-job": ["invalid/no-visible-job.yml:1:1: jobs config should contain at least one visible job"],
  "on-stop-undefined": ["invalid/on-stop-undefined.yml:7:14: deploy job: on_stop job stop-review is not defined"],
  "on-stop-not-stop": ["invalid/on-stop-not-stop.yml:7:14: deploy job: on_stop job stop-review needs to have action stop defined"],
  "schema-unknown-key": ["invalid/schema-unknown-key.yml:3:3: jobs:build config contains unknown keys: scirpt"],
  "schema-bad-when": [
    "invalid/schema-bad-when.yml:4:9: jobs:build:when config must be one of: on_success, on_failure, always, never, manual, delayed",
  ],
  "fleet-unserved-tags": [
    "invalid/fleet-unserved-tags.yml:3:9: build job: tags arm64, gpu: no runner pool in examples/fleet.yaml serves all of them, so the job would stay pending forever; use tags one pool has (served: arm64, deploy, docker, pi, pifleet)",
  ],
  "fleet-deploy-without-resource-group": [
    "invalid/fleet-deploy-without-resource-group.yml:6:5: deploy job: deploys to environment production without resource_group, so two pipelines could deploy at once; add resource_group: production",
  ],
  "fleet-amd64-image-on-arm64": [
    "invalid/fleet-amd64-image-on-arm64.yml:3:10: browser-tests job: image selenium/standalone-chrome:4.21 is amd64-only, but tags arm64, docker run it on arm64 nodes (pi2, pi3, pi4); use a multi-arch image or tags of an amd64 pool",
  ],
};

describe("pipeline lint: one failing fixture per check", () => {
  for (const [name, expected] of Object.entries(EXPECTED)) {
    it(name, () => expect(lint(name)).toEqual(expected));
  }

  it("has a fixture for every file in test-cases/invalid and an entry for every fixture", async () => {
    const { readdirSync } = await import("node:fs");
    const files = readdirSync(new URL("invalid/", CASES)).map((f) => f.replace(/\.yml$/, ""));
    expect(files.sort()).toEqual(Object.keys(EXPECTED).sort());
  });
});

describe("pipeline lint: clean pipelines", () => {
  it("a real-world style pipeline (include, extends, matrix, rules, child pipelines, environments) lints clean, fleet checks off", () => {
    const text = readFileSync(new URL("valid/real-world.yml", CASES), "utf8");
    const result = lintText(text, "real-world.yml");
    expect(result.diagnostics).toEqual([]);
    expect([...result.jobs.keys()]).toEqual([
      "build",
      "unit",
      "integration",
      "generate-child",
      "dynamic-child",
      "docs-child",
      "deploy-review",
      "stop-review",
      "deploy-production",
    ]);
  });

  it("extends resolves templates, lists replace and maps merge, and default fills what a job lacks", () => {
    const text = [
      "default: { image: node:20, tags: [arm64] }",
      ".base: { variables: { A: '1', B: '1' }, script: [base] }",
      "job: { extends: .base, variables: { B: '2' }, tags: [deploy, pifleet], script: [own] }",
    ].join("\n");
    const job = lintText(text, "x.yml").jobs.get("job");
    expect(job).toEqual({ image: "node:20", variables: { A: "1", B: "2" }, tags: ["deploy", "pifleet"], script: ["own"] });
  });

  it("ten levels of extends are allowed; the eleventh is not", () => {
    const chain = (levels: number) =>
      [
        ...Array.from({ length: levels }, (_, i) => `.t${i}: { extends: .t${i + 1} }`),
        `.t${levels}: { script: [x] }`,
        "job: { extends: .t0 }",
      ].join("\n");
    expect(lintText(chain(9), "x.yml").diagnostics).toEqual([]);
    expect(lintText(chain(10), "x.yml").diagnostics.map((d) => d.message)).toEqual(["job: nesting too deep in `extends`"]);
  });

  it("needs:optional on a missing job and same-stage needs are fine, as in GitLab", () => {
    const text = "a: { script: [x] }\nb: { needs: [a, { job: gone, optional: true }], script: [x] }";
    expect(lintText(text, "x.yml").diagnostics).toEqual([]);
  });

  it("reports a YAML syntax error at its position", () => {
    const [d] = lintText("a:\n  script: [x\n", "bad.yml").diagnostics;
    expect(`${d?.file}:${d?.line}:${d?.col}: ${d?.message}`).toBe(
      "bad.yml:3:1: Flow sequence in block collection must be sufficiently indented and end with a ]",
    );
  });
});

describe("pipeline lint: include: local", () => {
  const dir = new URL("includes/", CASES);
  const read = (path: string) => {
    try {
      return readFileSync(new URL(path, dir), "utf8");
    } catch {
      return undefined;
    }
  };

  it("merges included files, so their jobs and templates are known, and locates findings in the file that has them", () => {
    const text = readFileSync(new URL(".gitlab-ci.yml", dir), "utf8");
    const result = lintText(text, ".gitlab-ci.yml", { readInclude: read });
    expect(result.diagnostics.map((d) => `${d.file}:${d.line}:${d.col}: ${d.message}`)).toEqual([
      ".gitlab-ci.yml:6:18: test job: undefined need: lint",
      "ci/build.yml:6:11: build job: undefined need: generate",
    ]);
    expect(result.jobs.get("test")?.image).toBe("node:20");
  });

  it("a missing local include is an error in GitLab's words", () => {
    const result = lintText("include: ci/nope.yml\na: { script: [x] }\n", "x.yml", { readInclude: read });
    expect(result.diagnostics.map((d) => d.message)).toEqual(["Local file `ci/nope.yml` does not exist!"]);
  });

  it("with an include it cannot read (a template), unknown needs and templates are not reported as errors", () => {
    const text = readFileSync(new URL("with-template.yml", dir), "utf8");
    const result = lintText(text, "with-template.yml", { readInclude: read });
    // build's need "generate" and test's "semgrep-sast" / ".from-template" may come from the template.
    expect(result.diagnostics).toEqual([]);
    expect([...result.jobs.keys()]).toEqual(["build", "test"]);
  });
});

describe("pipeline lint: !reference", () => {
  const text = [
    ".setup:",
    "  script: [echo one, echo two]",
    "  tags: [arm64, docker]",
    ".rules:",
    "  rules:",
    "    - if: $CI_COMMIT_TAG",
    "      needs: [nope]",
    "a:",
    "  script:",
    "    - !reference [.setup, script]",
    "    - make",
    "    - !reference [.setup, script]",
    "  tags: !reference [.setup, tags]",
    "  rules: !reference [.rules, rules]",
    "b:",
    "  script: !reference [.missing, script]",
  ].join("\n");

  it("resolves references before checking, flattening scripts, and reports one that points nowhere", () => {
    const result = lintText(text, "r.yml", { fleet: { fleet, file: "examples/fleet.yaml" } });
    expect(result.jobs.get("a")?.script).toEqual(["echo one", "echo two", "make", "echo one", "echo two"]);
    expect(result.jobs.get("a")?.tags).toEqual(["arm64", "docker"]);
    expect(result.diagnostics.map((d) => `${d.line}:${d.col}: ${d.message}`)).toEqual([
      "14:22: a job: undefined need: nope",
      '16:22: b job: !reference [".missing","script"] could not be found',
    ]);
  });
});

describe("pipeline lint: needs on one instance of a parallel job", () => {
  it("knows the names GitLab gives parallel and matrix instances", () => {
    const text = [
      "build: { stage: build, parallel: { matrix: [{ ARCH: [amd64, arm64], NODE: ['20'] }] }, script: [x] }",
      "shard: { stage: build, parallel: 2, script: [x] }",
      "test: { stage: test, needs: ['build: [arm64, 20]', 'shard 2/2'], script: [x] }",
      "bad: { stage: test, needs: ['build: [riscv, 20]'], script: [x] }",
    ].join("\n");
    expect(lintText(text, "p.yml").diagnostics.map((d) => d.message)).toEqual(["bad job: undefined need: build: [riscv, 20]"]);
  });
});
