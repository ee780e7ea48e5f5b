import { recordingRunner } from "@pifleet/io";
import { describe, expect, it } from "vitest";
import { committedDefault, durationSeconds, evaluatePipeline, mapEvaluation } from "./ci-evaluate.js";

// Recorded from gitlab-ci-local 4.73.0 on a two-stage file, evaluated for a merge_request_event
// (deploy's rule asks for a push, so gitlab-ci-local reports it as when: never).
const LIST_JSON =
  '[\n  {\n    "name": "build",\n    "description": "",\n    "stage": "build",\n    "when": "on_success",\n    "allow_failure": false\n  },\n  {\n    "name": "deploy",\n    "description": "",\n    "stage": "deploy",\n    "when": "never",\n    "allow_failure": false,\n    "needs": [\n      {\n        "job": "build",\n        "artifacts": true,\n        "optional": false\n      }\n    ],\n    "rules": [\n      {\n        "if": "$CI_PIPELINE_SOURCE == \\"push\\""\n      }\n    ]\n  },\n  {\n    "name": "manual-job",\n    "description": "",\n    "stage": "deploy",\n    "when": "manual",\n    "allow_failure": false\n  }\n]\n';
const PREVIEW =
  '---\nstages:\n  - .pre\n  - build\n  - deploy\n  - .post\nbuild:\n  stage: build\n  tags:\n    - pi\n  script:\n    - echo b\ndeploy:\n  stage: deploy\n  tags:\n    - pi\n    - deploy\n  needs:\n    - job: build\n      artifacts: true\n      optional: false\n  rules:\n    - if: $CI_PIPELINE_SOURCE == "push"\n  script:\n    - echo d\nmanual-job:\n  stage: deploy\n  when: manual\n  script:\n    - echo m\n';

describe("mapEvaluation", () => {
  it("keeps the jobs whose rules matched, with stage, when, tags and needs from gitlab-ci-local's output", () => {
    const evaluation = mapEvaluation(LIST_JSON, PREVIEW);
    expect(evaluation).toEqual({
      kind: "jobs",
      stages: [".pre", "build", "deploy", ".post"],
      jobs: [
        expect.objectContaining({
          name: "build",
          stage: "build",
          when: "on_success",
          allow_failure: false,
          tag_list: ["pi"],
          needs: undefined,
        }),
        expect.objectContaining({
          name: "manual-job",
          stage: "deploy",
          when: "manual",
          allow_failure: false,
          tag_list: [],
          needs: undefined,
        }),
      ],
    });
  });

  it("keeps resource_group, environment, timeout and the expanded job for the runner", () => {
    const preview = `${PREVIEW.replace("build:\n  stage: build\n", "build:\n  stage: build\n  resource_group: fleet\n  timeout: 1h 30m\n  environment:\n    name: production\n")}`;
    const evaluation = mapEvaluation(LIST_JSON, preview);
    const build = evaluation.kind === "jobs" ? evaluation.jobs[0] : undefined;
    expect(build).toMatchObject({ resource_group: "fleet", environment: "production", timeout_s: 5400 });
    expect(build?.config.script).toEqual(["echo b"]);
    const manual = evaluation.kind === "jobs" ? evaluation.jobs[1] : undefined;
    expect(manual).toMatchObject({ resource_group: null, environment: null, timeout_s: null });
  });

  it("jobs take tags and timeout from the committed file's default: (--preview drops it), unless inherit says otherwise", () => {
    const defaults = committedDefault("default:\n  tags: [amd64, docker]\n  timeout: 10m\n  image: x\n");
    const preview = PREVIEW.replace("manual-job:\n  stage: deploy\n", "manual-job:\n  stage: deploy\n  inherit:\n    default: [timeout]\n");
    const evaluation = mapEvaluation(LIST_JSON, preview, defaults);
    const [build, manual] = evaluation.kind === "jobs" ? evaluation.jobs : [];
    expect(build).toMatchObject({ tag_list: ["pi"], timeout_s: 600 });
    expect(manual).toMatchObject({ tag_list: [], timeout_s: 600 });
    const off = mapEvaluation(LIST_JSON, preview.replace("default: [timeout]", "default: false"), defaults);
    expect(off.kind === "jobs" && off.jobs[1]).toMatchObject({ tag_list: [], timeout_s: null });
    expect(mapEvaluation(LIST_JSON, PREVIEW, committedDefault("default:\n  tags: [amd64]\n")).kind === "jobs").toBe(true);
    expect(committedDefault("a: [\n")).toEqual({});
  });

  it("reads the JSON after warnings gitlab-ci-local prints first", () => {
    const evaluation = mapEvaluation(` WARN  something\n${LIST_JSON}`, PREVIEW);
    expect(evaluation.kind === "jobs" && evaluation.jobs.map((j) => j.name)).toEqual(["build", "manual-job"]);
  });
});

describe("durationSeconds", () => {
  it("reads GitLab's timeout forms", () => {
    expect(durationSeconds("3600")).toBe(3600);
    expect(durationSeconds("10 minutes")).toBe(600);
    expect(durationSeconds("1h 30m")).toBe(5400);
    expect(durationSeconds("2 hours 5 seconds")).toBe(7205);
    expect(durationSeconds("soon")).toBeNull();
  });
});

describe("evaluatePipeline", () => {
  it("checks the commit out and passes the event's variables to gitlab-ci-local under a timeout", async () => {
    const runner = recordingRunner((call) => {
      if (call.args.includes("--list-json")) return { stdout: LIST_JSON };
      if (call.args.includes("--preview")) return { stdout: PREVIEW };
      return undefined;
    });
    const evaluation = await evaluatePipeline({
      repoDir: "/repo.git",
      sha: "a".repeat(40),
      variables: { CI_PIPELINE_SOURCE: "merge_request_event" },
      defaultBranch: "main",
      changesBase: "e".repeat(40),
      runner,
      program: "gcl",
    });
    expect(evaluation.kind).toBe("jobs");
    const list = runner.calls.find((c) => c.args.includes("--list-json"));
    expect(list?.program).toBe("gcl");
    expect(list?.args).toEqual(expect.arrayContaining(["--variable", "CI_PIPELINE_SOURCE=merge_request_event"]));
    expect(list?.args).not.toContain("--no-evaluate-rule-changes");
    // rules:changes compares with the base GitLab would use: origin/main points at it in the clone.
    const pointed = runner.calls.find((c) => c.args.includes("update-ref"));
    expect(pointed?.args.slice(-2)).toEqual(["refs/remotes/origin/main", "e".repeat(40)]);
    expect(runner.calls.map((c) => c.args[0])).toEqual(["--git-dir", "clone", "-C", "-C", "-C", "--list-json", "--preview", "-C"]);
  });

  it("without a base every changes rule matches (a new branch, a tag)", async () => {
    const runner = recordingRunner((call) => {
      if (call.args.includes("--list-json")) return { stdout: LIST_JSON };
      if (call.args.includes("--preview")) return { stdout: PREVIEW };
      return undefined;
    });
    await evaluatePipeline({ repoDir: "/repo.git", sha: "a".repeat(40), variables: {}, defaultBranch: "main", changesBase: null, runner });
    expect(runner.calls.some((c) => c.args.includes("update-ref"))).toBe(false);
    expect(runner.calls.find((c) => c.args.includes("--list-json"))?.args).toContain("--no-evaluate-rule-changes");
  });

  it("creates nothing when gitlab-ci-local's rules engine says the workflow rules match none", async () => {
    const withWorkflow = `${PREVIEW}workflow:\n  rules:\n    - if: $CI_COMMIT_TAG\n`;
    const runner = recordingRunner((call) => {
      if (call.args.includes("--file"))
        return { stdout: '[{"name":"pifleet-workflow-probe","stage":"test","when":"never","allow_failure":false}]' };
      if (call.args.includes("--list-json")) return { stdout: LIST_JSON };
      if (call.args.includes("--preview")) return { stdout: withWorkflow };
      return undefined;
    });
    const evaluation = await evaluatePipeline({
      repoDir: "/repo.git",
      sha: "d".repeat(40),
      variables: {},
      defaultBranch: "main",
      changesBase: null,
      runner,
    });
    expect(evaluation).toEqual({ kind: "jobs", stages: [], jobs: [] });
  });

  it("creates nothing for a commit without .gitlab-ci.yml", async () => {
    const runner = recordingRunner((call) => (call.args.includes("cat-file") ? { code: 128 } : undefined));
    const evaluation = await evaluatePipeline({
      repoDir: "/repo.git",
      sha: "b".repeat(40),
      variables: {},
      defaultBranch: "main",
      changesBase: null,
      runner,
    });
    expect(evaluation).toEqual({ kind: "jobs", stages: [], jobs: [] });
    expect(runner.calls).toHaveLength(1);
  });

  it("reports an invalid configuration as yaml errors", async () => {
    const runner = recordingRunner((call) =>
      call.args.includes("--list-json")
        ? {
            code: 1,
            stderr: "Using fallback git remote data\nYAMLException: unexpected end of the stream within a flow collection (2:1)\n",
          }
        : undefined,
    );
    const evaluation = await evaluatePipeline({
      repoDir: "/repo.git",
      sha: "c".repeat(40),
      variables: {},
      defaultBranch: "main",
      changesBase: null,
      runner,
    });
    expect(evaluation).toEqual({ kind: "invalid", yamlErrors: "unexpected end of the stream within a flow collection (2:1)" });
  });
});
