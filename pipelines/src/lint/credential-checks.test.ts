import { readFileSync } from "node:fs";
import { DiagnosticsError, parseFleet } from "@pifleet/fleet";
import { describe, expect, it } from "vitest";
import { generate } from "../generate.js";
import { job } from "../model/job.js";
import { FLEET_ENVIRONMENT, projectPipeline } from "../project/pipeline.js";
import { when } from "../project/rules.js";
import { lintText } from "./lint.js";

const fleet = parseFleet(readFileSync(new URL("../../../examples/fleet.yaml", import.meta.url), "utf8"), "examples/fleet.yaml");
const HANDED = "whose deploy credentials (PIFLEET_SSH_KEY, GITLAB_TOKEN) GitLab hands to every job naming it";
const withFleet = { fleet: { fleet, file: "examples/fleet.yaml" } };

/** The credential findings of a pipeline, as `file:line:col: job: why`. */
function findings(yaml: string): string[] {
  return lintText(yaml, "ci.yml", withFleet)
    .diagnostics.filter((d) => d.message.includes("which any Developer can start"))
    .map(
      (d) =>
        `${d.line}:${d.col}: ${d.message.slice(0, d.message.indexOf(", which any"))} | ${d.message.slice(d.message.indexOf(".gitlab-ci.yml, and ") + 20, d.message.indexOf("; restrict"))}`,
    );
}

/** A job on the arm64-docker pool (no socket, not protected) with the given extra keys. */
const plainJob = (extra: string) => `plan:\n  tags: [arm64, docker]\n  script: pifleet app plan\n${extra}`;

describe("credential lint: no job a Developer can start holds a fleet credential", () => {
  it("refuses to generate the project pipeline when a job of the fleet's environment also runs for merge requests (exit 2)", () => {
    const spec = projectPipeline(fleet, { fleetPath: "examples/fleet.yaml" });
    // What a generator change could add: a preview of the converge for merge requests, with the deploy credentials.
    const preview = job("configure-preview", {
      stage: "configure",
      tags: ["deploy", "pifleet"],
      script: ["pifleet configure --check --diff"],
      environment: { name: FLEET_ENVIRONMENT, action: "prepare" },
      resourceGroup: "fleet",
      rules: [when.mergeRequest],
    });
    const leaky = { ...spec, jobs: [...spec.jobs, preview] };
    const provenance = { source: "test", fleet: "examples/fleet.yaml", regenerate: "-" };
    expect(() => generate({ spec, provenance, fleet: withFleet.fleet })).not.toThrow();
    let error: unknown;
    try {
      generate({ spec: leaky, provenance, fleet: withFleet.fleet });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DiagnosticsError);
    expect((error as DiagnosticsError).exitCode).toBe(2);
    const messages = (error as DiagnosticsError).diagnostics.map((d) => d.message);
    expect(messages).toContainEqual(
      expect.stringMatching(/^configure-preview job: could run in a merge-request pipeline, .*names the environment production/),
    );
    expect(messages).toContainEqual(
      expect.stringMatching(/^configure-preview job: .*pool deploy, whose jobs get the node's Docker socket/),
    );
    expect(messages.every((m) => m.startsWith("configure-preview job:"))).toBe(true);
    expect(messages[0]).toMatch(/restrict it to the default branch and tags .* or remove what it holds/);
  });

  it("names the environment: refused wherever a Developer can run it, allowed on the default branch and tags", () => {
    const env = "  environment: { name: production, action: prepare }\n";
    expect(findings(plainJob(`${env}  rules:\n    - if: $CI_PIPELINE_SOURCE == "merge_request_event"\n`))).toEqual([
      `4:16: plan job: could run in a merge-request pipeline | it names the environment production, ${HANDED}`,
    ]);
    // No rules: GitLab's default runs it in branch pipelines (not in MR pipelines).
    expect(findings(plainJob(env))).toEqual([
      `4:16: plan job: could run in a pipeline of an unprotected branch | it names the environment production, ${HANDED}`,
    ]);
    expect(findings(plainJob(`${env}  rules:\n    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH\n    - if: $CI_COMMIT_TAG\n`))).toEqual([]);
    expect(findings(plainJob(`${env}  rules:\n    - if: $CI_COMMIT_REF_PROTECTED == "true"\n`))).toEqual([]);
    // A Developer may schedule or run from the UI any branch, and name it anything.
    for (const condition of [
      '$CI_PIPELINE_SOURCE == "schedule"',
      '$CI_COMMIT_BRANCH == "main"',
      "$CI_COMMIT_BRANCH =~ /^release-/",
      "$DEPLOY == 'yes'",
      "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH || $FORCE",
    ]) {
      expect(findings(plainJob(`${env}  rules:\n    - if: ${JSON.stringify(condition)}\n`)), condition).toHaveLength(1);
    }
    // `changes:` decides nothing about the ref; `when: never` first excludes MRs but not branches.
    expect(findings(plainJob(`${env}  rules:\n    - changes: [fleet.yaml]\n`))).toHaveLength(1);
    expect(findings(plainJob(`${env}  rules:\n    - if: $CI_MERGE_REQUEST_IID\n      when: never\n    - when: on_success\n`))).toEqual([
      `4:16: plan job: could run in a pipeline of an unprotected branch | it names the environment production, ${HANDED}`,
    ]);
  });

  it("the workflow decides too: a workflow of the default branch only admits the job", () => {
    const workflow = "workflow:\n  rules:\n    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH\n";
    expect(findings(`${workflow}${plainJob("  environment: production\n")}`)).toEqual([]);
  });

  it("hands a credential through variables: the job's, a rule's, the workflow's or the global ones", () => {
    // The gap before design D: the plan job mapped the fleet key from an unprotected variable.
    expect(
      findings(
        plainJob(
          '  variables:\n    PIFLEET_SSH_KEY: $PIFLEET_PLAN_SSH_KEY\n  rules:\n    - if: $CI_PIPELINE_SOURCE == "merge_request_event"\n',
        ),
      ),
    ).toEqual(["5:22: plan job: could run in a merge-request pipeline | its variables hand it PIFLEET_SSH_KEY"]);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: GitLab's ${VAR} form, in YAML
    expect(findings(plainJob('  rules:\n    - if: $CI_MERGE_REQUEST_IID\n      variables:\n        TOKEN: "${GITLAB_TOKEN}"\n'))).toEqual([
      "5:5: plan job: could run in a merge-request pipeline | the variables of its (or the workflow's) rules hand it TOKEN",
    ]);
    expect(findings(`variables:\n  GITLAB_TOKEN: $ADMIN_TOKEN\n${plainJob("")}`)).toEqual([
      "4:3: plan job: could run in a pipeline of an unprotected branch | the global variables hand every job GITLAB_TOKEN",
    ]);
  });

  it("a script that only mentions a credential holds nothing", () => {
    const script = '  before_script:\n    - if [ -n "$PIFLEET_SSH_KEY" ]; then echo set; fi\n  rules:\n    - if: $CI_MERGE_REQUEST_IID\n';
    expect(findings(plainJob(script))).toEqual([]);
  });

  it("a pool with the Docker socket (root on the Pi) or protected runners is no place for such a job", () => {
    expect(findings("build:\n  tags: [deploy, pifleet]\n  script: docker build .\n  rules:\n    - if: $CI_MERGE_REQUEST_IID\n")).toEqual([
      "2:9: build job: could run in a merge-request pipeline | its tags deploy, pifleet put it on pool deploy, whose jobs get the node's Docker socket, root on that Pi",
    ]);
  });
});
