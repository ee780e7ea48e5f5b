import { createHash } from "node:crypto";
import { posix } from "node:path";
import { InputError } from "@pifleet/fleet";
import { shellQuote } from "@pifleet/io";
import type { JobVariable } from "./invocation.js";

/**
 * The shell executor's plan for one job, pure: where the job lives on the node, the bash scripts the
 * node runs (as the runner's user), and what comes back. shell-job.ts sends them over SSH.
 * Modelled on gitlab-runner's shell executor: builds under the runner user's home,
 * `<builds>/<runner short token>/<concurrent project id>/<namespace>/<project>`, file variables and
 * scripts in the sibling `<project dir>.tmp`, `bash --login` running before_script + script, then
 * after_script in a fresh shell.
 */

/** The user gitlab-runner's Debian package creates and runs shell jobs as (its service's --user). */
export const RUNNER_USER = "gitlab-runner";
/** That user's home: the service's --working-directory, under which builds/ lives. */
export const RUNNER_HOME = "/home/gitlab-runner";
/** gitlab-runner's default after_script timeout (RUNNER_AFTER_SCRIPT_TIMEOUT). */
export const AFTER_SCRIPT_TIMEOUT_MS = 5 * 60_000;
/** How long a canceled job's process group has between SIGTERM and SIGKILL. */
export const CANCEL_GRACE_S = 10;

/** The parts of GitLab's job payload (POST /jobs/request) a shell executor runs. */
export interface RunnerJobPayload {
  steps: ReadonlyArray<{ name: string; script: readonly string[] }>;
  artifacts: ReadonlyArray<{ paths: readonly string[]; when: string }>;
  /** Names of the jobs whose artifacts this one gets. */
  dependencies: readonly string[];
}

export type ArtifactsWhen = "on_success" | "on_failure" | "always";

/** What the shell executor runs of a job. */
export interface ShellJob {
  /** before_script + script. */
  script: string[];
  afterScript: string[];
  artifacts: { paths: string[]; when: ArtifactsWhen } | null;
  dependencies: string[];
}

export function shellJobFromPayload(payload: RunnerJobPayload): ShellJob {
  const step = (name: string) => [...(payload.steps.find((s) => s.name === name)?.script ?? [])];
  const paths = payload.artifacts.flatMap((a) => a.paths);
  const when = payload.artifacts[0]?.when;
  return {
    script: step("script"),
    afterScript: step("after_script"),
    artifacts: paths.length > 0 ? { paths, when: when === "on_failure" || when === "always" ? when : "on_success" } : null,
    dependencies: [...payload.dependencies],
  };
}

/**
 * gitlab-runner's short token (helpers.ShortenToken): the token without its known prefixes
 * (glrt-, a partition prefix t1_…t3_, glrtr-, glcbt-, GR+7 hex), first 9 characters. It names the
 * runner's builds dir and is shown as the runner's short sha: not a secret.
 */
export function runnerShortToken(token: string): string {
  const stripped = token
    .replace(/^glrt-(t[123]_)?|^t[123]_|^glrtr-/, "")
    .replace(/^glcbt-/, "")
    .replace(/^GR[0-9A-Fa-f]{7}/, "");
  return stripped.slice(0, 9);
}

/**
 * gitlab-ci-local 4.73's Utils.safeDockerString: the name of a job's dir under
 * `.gitlab-ci-local/artifacts/`. Runs of characters outside [A-Za-z0-9_-] become their base64url;
 * names longer than NAME_MAX less its 17-character wrapper are cut and get a hash.
 */
export function gitlabCiLocalSafeName(jobName: string): string {
  const max = 255 - 17;
  const encoded = jobName.replace(/[^\w-]+/g, (run) => Buffer.from(run, "utf8").toString("base64url"));
  if (encoded.length <= max) return encoded;
  const hash = createHash("sha256").update(jobName).digest("hex").slice(0, 16);
  return `${encoded.slice(0, max - 1 - hash.length)}-${hash}`;
}

export interface ShellBuildLayout {
  /** CI_BUILDS_DIR. */
  buildsDir: string;
  /** CI_PROJECT_DIR: where the job's files are and its script runs. */
  projectDir: string;
  /** `<project dir>.tmp`: file variables, the step scripts, the process group id; removed after the job. */
  tmpDir: string;
}

const PATH_WORD = /^[A-Za-z0-9._-]+$/;

/** Where a job of `projectPath` (namespace/project) runs for a runner, in concurrent slot `slot`. */
export function shellBuildLayout(input: { shortToken: string; slot: number; projectPath: string }): ShellBuildLayout {
  const words = input.projectPath.split("/");
  if (!PATH_WORD.test(input.shortToken) || words.some((w) => !PATH_WORD.test(w) || w === "." || w === "..") || words.length < 2)
    throw new InputError(
      `cannot make a builds dir from runner ${JSON.stringify(input.shortToken)} and project ${JSON.stringify(input.projectPath)}`,
      "Project paths are namespace/project of letters, digits, '.', '_' and '-'.",
    );
  const buildsDir = `${RUNNER_HOME}/builds`;
  const projectDir = `${buildsDir}/${input.shortToken}/${input.slot}/${input.projectPath}`;
  return { buildsDir, projectDir, tmpDir: `${projectDir}.tmp` };
}

/** gitlab-runner's concurrent project id: the lowest slot no running job of this runner and project holds. */
export function lowestFreeSlot(used: ReadonlySet<number>): number {
  let slot = 0;
  while (used.has(slot)) slot++;
  return slot;
}

/** The variables gitlab-runner itself sets for a shell job (the caller's CI_PROJECT_DIR and CI_BUILDS_DIR were dropped). */
export function runnerVariables(layout: ShellBuildLayout, runner: { shortToken: string; slot: number }): JobVariable[] {
  const plain = (key: string, value: string): JobVariable => ({ key, value, file: false, masked: false });
  return [
    plain("CI_BUILDS_DIR", layout.buildsDir),
    plain("CI_PROJECT_DIR", layout.projectDir),
    plain("CI_CONCURRENT_PROJECT_ID", String(runner.slot)),
    plain("CI_RUNNER_SHORT_TOKEN", runner.shortToken),
    plain("CI_SERVER", "yes"),
  ];
}

/**
 * gitlab-runner's echo of a command before it runs: `$ cmd`, and only the first line of a
 * multi-line one, marked collapsed.
 */
export function commandEcho(command: string): string {
  const [first = "", ...rest] = command.split("\n");
  return `$ ${first}${rest.some((l) => l.trim() !== "") ? " # collapsed multi-line command" : ""}`;
}

export interface StepScriptInput {
  variables: readonly JobVariable[];
  layout: ShellBuildLayout;
  commands: readonly string[];
  /** CI_JOB_STATUS: running in the script, success or failed in after_script. */
  jobStatus: "running" | "success" | "failed";
}

/**
 * One step's bash script, sent on stdin (never argv) and kept 0600 in the tmp dir while it runs:
 * the variables exported (a file variable as the path of a 0600 file holding its value), then in the
 * project dir each command echoed and run, `set -eo pipefail` stopping at the first failure.
 */
export function stepScript(input: StepScriptInput): string {
  const lines = ["set -eo pipefail"];
  for (const v of input.variables) {
    if (v.file) {
      const path = `${input.layout.tmpDir}/${v.key}`;
      lines.push(`(umask 077 && printf '%s' ${shellQuote(v.value)} > ${shellQuote(path)})`, `export ${v.key}=${shellQuote(path)}`);
    } else {
      lines.push(`export ${v.key}=${shellQuote(v.value)}`);
    }
  }
  lines.push(`export CI_JOB_STATUS=${input.jobStatus}`, `cd ${shellQuote(input.layout.projectDir)}`);
  for (const command of input.commands) lines.push(`printf '%s\\n' ${shellQuote(commandEcho(command))}`, command);
  lines.push("");
  return lines.join("\n");
}

/**
 * The argv that runs a bash program as the runner's user on the node (through the SSH user's
 * passwordless sudo, as gitlab-runner's service runs jobs as its --user): `-H` for the user's HOME,
 * arguments after the program as $1….
 */
export function asRunnerUser(program: string, name: string, args: readonly string[]): string[] {
  return ["sudo", "-n", "-u", RUNNER_USER, "-H", "--", "bash", "-c", program, name, ...args];
}

/** $1 project dir, $2 tmp dir; stdin: tar streams (the commit's files, then each dependency's artifacts). */
export const PREPARE_PROGRAM = `set -eu
cd /
rm -rf -- "$1" "$2"
mkdir -p -- "$1"
mkdir -m 700 -- "$2"
tar -x -i -f - -C "$1"`;

/**
 * $1 tmp dir, $2 step name; stdin: the step script. The step runs in a session of its own, whose id
 * (= its process group) is written first, so a cancel can signal the whole group; a cancel that came
 * before (the abort marker) stops it from starting.
 */
export const STEP_PROGRAM = `set -eu
cd /
(umask 077 && cat > "$1/$2.sh")
exec setsid -w bash -c 'echo $$ > "$1/pgid"; if [ -e "$1/abort" ]; then exit 137; fi; exec bash --login "$1/$2.sh" < /dev/null' step "$1" "$2"`;

/** $1 tmp dir, $2 grace seconds: SIGTERM to the step's process group, SIGKILL after the grace. */
export const KILL_PROGRAM = `cd /
touch "$1/abort" 2>/dev/null || exit 0
pgid=$(cat "$1/pgid" 2>/dev/null) || exit 0
kill -TERM -- "-$pgid" 2>/dev/null || exit 0
for _ in $(seq "$2"); do
  kill -0 -- "-$pgid" 2>/dev/null || exit 0
  sleep 1
done
kill -KILL -- "-$pgid" 2>/dev/null || true`;

/** $1 tmp dir: file variables, step scripts and markers go. */
export const CLEANUP_PROGRAM = `cd /
rm -rf -- "$1"`;

/**
 * $1 project dir, $2 staging dir, then the patterns (project-relative, globs allowed, `**` too):
 * every match copied with its path into the staging dir, which goes to stdout as a tar stream.
 * The patterns arrive as arguments and are only globbed (IFS empty: no word splitting), never run.
 */
export const COLLECT_PROGRAM = `set -eu -o pipefail
shopt -s globstar nullglob dotglob
cd "$1"
out=$2
shift 2
rm -rf -- "$out"
mkdir -m 700 -- "$out"
IFS=
for pattern in "$@"; do
  found=
  for f in ./$pattern; do
    if [ -e "$f" ] || [ -L "$f" ]; then cp -a --parents -- "$f" "$out/" && found=1; fi
  done
  [ -n "$found" ] || echo "WARNING: $pattern: no matching files" >&2
done
tar -C "$out" -c .`;

/**
 * The local half of the prepare step: the commit's tracked files (git archive: no .git, as no git
 * fetch happens on the node), then each dependency's artifact dir as gitlab-ci-local keeps it
 * (without its .gitlab-ci-reports), concatenated tar streams. $1 checkout, $2 sha, then the dirs.
 */
export const SEND_PROGRAM = `set -eo pipefail
checkout=$1
sha=$2
shift 2
git -C "$checkout" archive --format=tar "$sha"
for dir in "$@"; do
  if [ -d "$dir" ]; then tar -C "$dir" -c --exclude=./.gitlab-ci-reports .; fi
done`;

/** Whether artifacts are collected after a job that succeeded or not (GitLab's artifacts:when). */
export function collectsArtifacts(when: ArtifactsWhen, succeeded: boolean): boolean {
  return when === "always" || (when === "on_success") === succeeded;
}

/** `$VAR`, `${VAR}` (and `$$` for a literal `$`) replaced from lookup; an unknown variable is empty, as the runner expands it. */
export function expandVariables(text: string, lookup: (key: string) => string | undefined): string {
  return text.replace(/\$\$|\$\{(\w+)\}|\$(\w+)/g, (match, braced?: string, bare?: string) =>
    match === "$$" ? "$" : (lookup(braced ?? bare ?? "") ?? ""),
  );
}

/**
 * artifacts:paths as globs relative to the project dir: variables expanded, `$CI_PROJECT_DIR/`
 * dropped (GitLab takes paths inside the project only). Paths that leave the project are refused.
 */
export function artifactPatterns(
  paths: readonly string[],
  variables: readonly JobVariable[],
  projectDir: string,
): { patterns: string[]; refused: string[] } {
  const values = new Map(variables.map((v) => [v.key, v.value]));
  const patterns: string[] = [];
  const refused: string[] = [];
  for (const path of paths) {
    const expanded = expandVariables(path, (k) => values.get(k));
    const relative = expanded.startsWith(`${projectDir}/`) ? expanded.slice(projectDir.length + 1) : expanded;
    const normal = posix.normalize(relative);
    if (relative === "" || posix.isAbsolute(normal) || normal === ".." || normal.startsWith("../")) refused.push(path);
    else patterns.push(relative);
  }
  return { patterns, refused };
}
