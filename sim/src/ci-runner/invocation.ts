import { InputError } from "@pifleet/fleet";

/**
 * How one CI job becomes one gitlab-ci-local 4.73 run (pure: argv, files, and reading the result).
 * The flags were read in 4.73.0's src/index.ts and src/argv.ts; what they change in src/job.ts.
 */

/** A CI/CD variable as the job gets it (GitLab's predefined ones included). */
export interface JobVariable {
  key: string;
  value: string;
  /** A file variable: the job sees a path to a file holding the value, as GitLab does. */
  file: boolean;
  masked: boolean;
}

/**
 * Set by the runner itself, not by GitLab: gitlab-ci-local derives them from the checkout's remote
 * (`/builds/<namespace>/<project>`, where gitlab-runner's docker executor puts the project too) and
 * mounts the build volume there. A different value from the caller would point jobs elsewhere.
 */
export const RUNNER_OWNED_VARIABLES: readonly string[] = ["CI_PROJECT_DIR", "CI_BUILDS_DIR"];

/**
 * gitlab-ci-local always defines these, where GitLab defines them only for some pipelines
 * (CI_COMMIT_BRANCH: branch pipelines, not tag or merge-request ones). When the caller does not
 * pass one, the job must not see gitlab-ci-local's guess: it is unset.
 */
const UNSET_UNLESS_GIVEN: readonly string[] = ["CI_COMMIT_BRANCH"];

const VARIABLE_KEY = /^[A-Za-z0-9_]+$/;

export interface InvocationInput {
  jobName: string;
  evaluateChanges: boolean;
  helperImage: string;
  volumes: readonly string[];
  defaultImage?: string;
  /** The variables file, relative to the checkout (gitlab-ci-local joins it to its cwd). */
  variablesFile: string;
  /** The keys of every variable passed: each overrides gitlab-ci-local's own on purpose. */
  variableKeys: readonly string[];
}

/** gitlab-ci-local's arguments for running one job on a node's Docker engine. No value of a variable is ever among them. */
export function gitlabCiLocalArgs(input: InvocationInput): string[] {
  const given = new Set(input.variableKeys);
  const args = [
    // Every job in a container, as a docker-executor runner runs it; a job without image: gets the
    // runner's default image (never the controller's shell).
    "--no-shell-executor-no-image",
    ...(input.defaultImage ? ["--default-image", input.defaultImage] : []),
    "--helper-image",
    input.helperImage,
    "--pull-policy",
    "if-not-present",
    ...input.volumes.flatMap((v) => ["--volume", v]),
    // Artifacts travel through the state dir only; copying them into the checkout would change the
    // pipeline's files under later jobs (and under rules:changes).
    "--no-artifacts-to-source",
    "--variables-file",
    input.variablesFile,
    ...(input.evaluateChanges ? [] : ["--no-evaluate-rule-changes"]),
    ...UNSET_UNLESS_GIVEN.filter((k) => !given.has(k)).flatMap((k) => ["--unset-variable", k]),
    // The caller's predefined variables replace gitlab-ci-local's on purpose: no warning in the trace.
    // One comma-separated value (given twice, 4.73 crashes with "split is not a function").
    ...(given.size > 0 ? ["--ignore-predefined-vars", [...given].join(",")] : []),
    "--no-color",
    "--max-job-name-padding",
    "0",
    input.jobName,
  ];
  return args;
}

/** The variables the job gets, without the runner's own; bad keys are refused (a file variable's key is a file name). */
export function jobVariables(variables: readonly JobVariable[]): JobVariable[] {
  const bad = variables.filter((v) => !VARIABLE_KEY.test(v.key)).map((v) => JSON.stringify(v.key));
  if (bad.length > 0)
    throw new InputError(`CI/CD variable keys may contain only letters, digits and '_': ${bad.join(", ")}`, "Rename the variable.");
  return variables.filter((v) => !RUNNER_OWNED_VARIABLES.includes(v.key));
}

/**
 * The variables file in gitlab-ci-local's format (src/variables-from-files.ts): each key with its
 * type and one value for every environment (`*`). `type: file` makes gitlab-ci-local write the value
 * to a file and hand the job its path. JSON is YAML, and spells every value exactly.
 */
export function variablesFileText(variables: readonly JobVariable[]): string {
  const entries = variables.map((v) => [v.key, { type: v.file ? "file" : "variable", values: { "*": v.value } }] as const);
  return `${JSON.stringify(Object.fromEntries(entries), null, 1)}\n`;
}

export interface SshConfigInput {
  address: string;
  user: string;
  port: number;
  privateKey: string;
  knownHosts: string;
  /** Where the shared connection's socket lives (short: a Unix socket path has a length limit). */
  controlPath: string;
}

/** ssh_config's quoting: a path in double quotes; a path that needs more than that is refused. */
function quoted(what: string, path: string): string {
  if (/["\n\r]/.test(path))
    throw new InputError(`${what} ${JSON.stringify(path)} cannot be written into an ssh config`, "Use a path without quotes or newlines.");
  return `"${path}"`;
}

/**
 * The ssh config docker's `ssh://` transport uses for one node: the sim's key only, the pinned host
 * key only (no global known_hosts, no learning), never a prompt, and one shared connection for the
 * many docker calls of a job.
 */
export function sshConfigText(input: SshConfigInput): string {
  return [
    `Host ${input.address}`,
    `  User ${input.user}`,
    `  Port ${input.port}`,
    `  IdentityFile ${quoted("ssh.privateKey", input.privateKey)}`,
    "  IdentitiesOnly yes",
    `  UserKnownHostsFile ${quoted("ssh.knownHosts", input.knownHosts)}`,
    "  GlobalKnownHostsFile /dev/null",
    "  StrictHostKeyChecking yes",
    "  UpdateHostKeys no",
    "  BatchMode yes",
    "  ConnectTimeout 10",
    "  ServerAliveInterval 15",
    "  ServerAliveCountMax 4",
    "  ControlMaster auto",
    `  ControlPath ${quoted("control path", input.controlPath)}`,
    "  ControlPersist 60",
    "  LogLevel ERROR",
    "",
  ].join("\n");
}

/** Why a job failed, in GitLab's failure_reason words. */
export type FailureReason = "script_failure" | "job_execution_timeout" | "runner_system_failure";

export type JobOutcome = { status: "success" } | { status: "failed"; failureReason: FailureReason };

/**
 * The job's outcome from gitlab-ci-local's exit status and its closing report. The report lines
 * (" PASS ", " WARN ", " FAIL " at the start of a line; a job's own output is always prefixed with
 * its name) say whether the script ran and how it ended: exit 0 with a WARN pre_script line is a
 * failed job that allow_failure let pass (GitLab shows it failed); a non-zero exit without a FAIL line
 * never reached the script's end (no image, node unreachable: the runner's failure, not the job's).
 */
export function jobOutcome(run: { exitCode: number; stdout: string; timedOut: boolean }): JobOutcome {
  if (run.timedOut) return { status: "failed", failureReason: "job_execution_timeout" };
  const lines = run.stdout.split(/\r?\n/);
  const report = (word: string) => lines.some((l) => l.startsWith(` ${word} `));
  if (run.exitCode === 0) {
    if (lines.some((l) => /^ WARN .*\spre_script$/.test(l))) return { status: "failed", failureReason: "script_failure" };
    // gitlab-ci-local may start nothing and still exit 0 (a `when: on_failure` job named alone).
    return report("PASS") ? { status: "success" } : { status: "failed", failureReason: "runner_system_failure" };
  }
  return { status: "failed", failureReason: run.exitCode === 1 && report("FAIL") ? "script_failure" : "runner_system_failure" };
}
