import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { gitlabCiLocalArgs, jobOutcome, jobVariables, sshConfigText, variablesFileText } from "./invocation.js";

const input = {
  jobName: "build: [amd64]",
  evaluateChanges: true,
  helperImage: "pifleet/sim-helper:amd64-abc",
  volumes: ["/var/run/docker.sock:/var/run/docker.sock", "/cache"],
  defaultImage: "debian:bookworm-slim",
  variablesFile: "../state/job-1/variables.json",
  variableKeys: ["CI_PROJECT_ID", "CI_COMMIT_BRANCH", "TOKEN"],
};

describe("gitlabCiLocalArgs", () => {
  it("runs the one job in a container on the given images and volumes, variables from the file", () => {
    expect(gitlabCiLocalArgs(input)).toEqual([
      "--no-shell-executor-no-image",
      "--default-image",
      "debian:bookworm-slim",
      "--helper-image",
      "pifleet/sim-helper:amd64-abc",
      "--pull-policy",
      "if-not-present",
      "--volume",
      "/var/run/docker.sock:/var/run/docker.sock",
      "--volume",
      "/cache",
      "--no-artifacts-to-source",
      "--variables-file",
      "../state/job-1/variables.json",
      "--ignore-predefined-vars",
      "CI_PROJECT_ID,CI_COMMIT_BRANCH,TOKEN",
      "--no-color",
      "--max-job-name-padding",
      "0",
      "build: [amd64]",
    ]);
  });

  it("skips rules:changes on a branch's first push, and unsets CI_COMMIT_BRANCH when the pipeline has none", () => {
    const args = gitlabCiLocalArgs({ ...input, evaluateChanges: false, defaultImage: undefined, variableKeys: ["CI_COMMIT_TAG"] });
    expect(args).toContain("--no-evaluate-rule-changes");
    expect(args).not.toContain("--default-image");
    expect(args.join(" ")).toContain("--unset-variable CI_COMMIT_BRANCH");
    expect(gitlabCiLocalArgs(input)).not.toContain("--unset-variable");
  });
});

describe("jobVariables", () => {
  it("leaves the runner's own variables to the runner", () => {
    const vars = [
      { key: "CI_PROJECT_DIR", value: "/elsewhere", file: false, masked: false },
      { key: "CI_JOB_ID", value: "7", file: false, masked: false },
    ];
    expect(jobVariables(vars).map((v) => v.key)).toEqual(["CI_JOB_ID"]);
  });

  it("refuses keys that are not GitLab variable names, naming them", () => {
    expect(() => jobVariables([{ key: "../x", value: "", file: true, masked: false }])).toThrow(/"\.\.\/x"/);
  });
});

describe("variablesFileText", () => {
  it("spells every value exactly, with its type, for every environment", () => {
    const key = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn: 'x' \"y\" #z\n-----END OPENSSH PRIVATE KEY-----\n";
    const text = variablesFileText([
      { key: "SSH_KEY", value: key, file: true, masked: false },
      { key: "TOKEN", value: "glpat-*&|: {x}", file: false, masked: true },
      { key: "EMPTY", value: "", file: false, masked: false },
    ]);
    expect(parse(text)).toEqual({
      SSH_KEY: { type: "file", values: { "*": key } },
      TOKEN: { type: "variable", values: { "*": "glpat-*&|: {x}" } },
      EMPTY: { type: "variable", values: { "*": "" } },
    });
  });
});

describe("sshConfigText", () => {
  const base = {
    address: "198.19.255.11",
    user: "pi",
    port: 22,
    privateKey: "/sim/id ed25519",
    knownHosts: "/sim/known_hosts",
    controlPath: "/tmp/x/%C",
  };

  it("pins the sim's key and host keys, never prompts, and shares one connection", () => {
    const text = sshConfigText(base);
    expect(text).toMatch(/^Host 198\.19\.255\.11\n/);
    for (const line of [
      "User pi",
      'IdentityFile "/sim/id ed25519"',
      "IdentitiesOnly yes",
      'UserKnownHostsFile "/sim/known_hosts"',
      "GlobalKnownHostsFile /dev/null",
      "StrictHostKeyChecking yes",
      "BatchMode yes",
      "ControlMaster auto",
      'ControlPath "/tmp/x/%C"',
    ])
      expect(text).toContain(`\n  ${line}\n`);
  });

  it("refuses a path it cannot quote", () => {
    expect(() => sshConfigText({ ...base, privateKey: '/a"b' })).toThrow(/ssh\.privateKey/);
  });
});

describe("jobOutcome", () => {
  const out = (exitCode: number, stdout: string, timedOut = false) => jobOutcome({ exitCode, stdout, timedOut });

  it("reads gitlab-ci-local's closing report", () => {
    expect(out(0, "a > hi\n\n PASS  a\n")).toEqual({ status: "success" });
    expect(out(1, "a > boom\n\n FAIL  a\n  > boom\n")).toEqual({ status: "failed", failureReason: "script_failure" });
    // allow_failure: gitlab-ci-local exits 0, GitLab shows the job failed.
    expect(out(0, "\n WARN  a  pre_script\n  > boom\n")).toEqual({ status: "failed", failureReason: "script_failure" });
    // after_script failures do not fail a job.
    expect(out(0, "\n PASS  a\n WARN  a  after_script\n")).toEqual({ status: "success" });
  });

  it("blames the runner when the script never ran to a report", () => {
    expect(out(1, "Error: image not found\n")).toEqual({ status: "failed", failureReason: "runner_system_failure" });
    expect(out(0, "")).toEqual({ status: "failed", failureReason: "runner_system_failure" });
    // A job that prints a report-like line itself is prefixed with its name: not a report.
    expect(out(1, "a >  FAIL  x\n")).toEqual({ status: "failed", failureReason: "runner_system_failure" });
  });

  it("says a timeout is one", () => {
    expect(out(124, "", true)).toEqual({ status: "failed", failureReason: "job_execution_timeout" });
  });
});
