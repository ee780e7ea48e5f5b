import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { lintText } from "../lint/lint.js";
import { forEachItem, job, template } from "../model/job.js";
import type { PipelineSpec } from "../model/types.js";
import { emitYaml } from "./emit.js";
import { renderPipeline } from "./render.js";

/**
 * Golden files: the exact YAML for a few model pipelines. A change in output is
 * a visible diff in review. Rewrite them with UPDATE_GOLDEN=1 after checking.
 */
function expectGolden(name: string, text: string): void {
  const file = new URL(`./__golden__/${name}.yml`, import.meta.url);
  if (process.env.UPDATE_GOLDEN === "1") writeFileSync(file, text);
  expect(existsSync(file), `missing golden file ${file.pathname}; run with UPDATE_GOLDEN=1`).toBe(true);
  expect(text).toBe(readFileSync(file, "utf8"));
}

/** One deploy + verify pair per environment; verify needs its own environment's deploy. */
function perEnvironment(): PipelineSpec {
  const build = job("build", { stage: "build", script: ["make"], artifacts: { paths: ["out/"] } });
  const deploy = job("deploy", {
    stage: "deploy",
    needs: [build],
    script: ['./deploy "$TARGET"'],
    resourceGroup: "$TARGET",
    environment: { name: "$TARGET", url: "https://$TARGET.example.com" },
  });
  const verify = job("verify", { stage: "verify", needs: [deploy], script: ['curl -f "https://$TARGET.example.com/healthz"'] });
  const envs = ["staging", "production"];
  return {
    jobs: [build, ...forEachItem(envs, [deploy, verify], (env) => ({ prefix: `${env}:`, variables: { TARGET: env } }))],
  };
}

/** Most keywords at once, as a real project would use them. */
function kitchenSink(): PipelineSpec {
  const node = template("node", {
    image: { name: "node:20-bookworm", pullPolicy: "if-not-present" },
    cache: { key: { files: ["package-lock.json"] }, paths: [".npm/"], policy: "pull-push" },
    beforeScript: ["npm ci --cache .npm --prefer-offline"],
  });
  const build = job("build", {
    extends: [node],
    stage: "build",
    parallel: { matrix: [{ ARCH: ["amd64", "arm64"] }] },
    script: ["npm run build -- --arch $ARCH"],
    artifacts: { paths: ["dist/"], expireIn: "1 week" },
  });
  const generate = job("generate-child", { stage: "build", script: ["node gen.js > child.yml"], artifacts: { paths: ["child.yml"] } });
  const test = job("test", {
    extends: [node],
    stage: "test",
    needs: [{ job: build, parallel: { matrix: [{ ARCH: "amd64" }] } }],
    services: [{ name: "redis:7", alias: "redis" }],
    variables: { REDIS_URL: "redis://redis:6379" },
    script: ["npm test"],
    coverage: "/Lines\\s*:\\s*(\\d+\\.?\\d*)%/",
    artifacts: { when: "always", reports: { junit: "junit.xml" } },
    retry: { max: 2, when: ["runner_system_failure"] },
    timeout: "20m",
  });
  const child = job("child", {
    stage: "test",
    needs: [generate],
    trigger: { include: [{ artifact: "child.yml", job: generate }], strategy: "depend" },
  });
  const stop = job("stop-review", {
    stage: "deploy",
    script: ["./deploy teardown"],
    environment: { name: "review/$CI_COMMIT_REF_SLUG", action: "stop" },
    rules: [{ if: '$CI_PIPELINE_SOURCE == "merge_request_event"', when: "manual", allowFailure: true }],
    manualConfirmation: "Tear down the review app?",
    inherit: { variables: false },
  });
  const review = job("deploy-review", {
    stage: "deploy",
    needs: [test],
    script: ["./deploy review"],
    idTokens: { VAULT_ID_TOKEN: { aud: "https://vault.example.com" } },
    resourceGroup: "review/$CI_COMMIT_REF_SLUG",
    environment: { name: "review/$CI_COMMIT_REF_SLUG", onStop: stop, autoStopIn: "1 week", deploymentTier: "development" },
    rules: [{ if: '$CI_PIPELINE_SOURCE == "merge_request_event"', needs: [test] }],
    interruptible: false,
  });
  return {
    include: [{ template: "Jobs/SAST.gitlab-ci.yml" }],
    workflow: { name: "$CI_COMMIT_REF_NAME", rules: [{ if: "$CI_COMMIT_TAG", when: "always" }, { if: "$CI_COMMIT_BRANCH" }] },
    variables: { DEPLOY_TARGET: { value: "staging", description: "Where to deploy.", options: ["staging", "production"] } },
    default: { interruptible: true },
    jobs: [node, build, generate, test, child, review, stop],
  };
}

describe("golden YAML", () => {
  for (const [name, spec] of Object.entries({ "per-environment": perEnvironment, "kitchen-sink": kitchenSink })) {
    it(`${name} renders exactly as committed and lints clean`, () => {
      const text = emitYaml(renderPipeline(spec()));
      expectGolden(name, text);
      expect(lintText(text, `${name}.yml`).diagnostics).toEqual([]);
    });
  }
});
