import { mkdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import {
  type NodeShell,
  processRunner,
  run,
  type SshSettings,
  type SshTarget,
  shellJoin,
  sshArgs,
  sshShell,
  withFileLock,
  writeFileAtomic,
} from "@pifleet/io";
import { GITLAB_CI_LOCAL, gitlabCiLocalEnv } from "../gitlab/ci-evaluate.js";
import { STATE_DIR } from "./checkout.js";
import { type JobVariable, jobVariables } from "./invocation.js";
import { maskingStream } from "./masking.js";
import type { RunJobResult } from "./run-job.js";
import {
  AFTER_SCRIPT_TIMEOUT_MS,
  artifactPatterns,
  asRunnerUser,
  CANCEL_GRACE_S,
  CLEANUP_PROGRAM,
  COLLECT_PROGRAM,
  collectsArtifacts,
  gitlabCiLocalSafeName,
  KILL_PROGRAM,
  PREPARE_PROGRAM,
  RUNNER_USER,
  runnerVariables,
  SEND_PROGRAM,
  type ShellBuildLayout,
  type ShellJob,
  STEP_PROGRAM,
  shellBuildLayout,
  stepScript,
} from "./shell-plan.js";

/**
 * The shell executor of the sim runner: runs ONE job as the runner's user (gitlab-runner) on the
 * runner's node, as gitlab-runner's shell executor does, over SSH as the sim's user with the pinned
 * host key (@pifleet/io's node shell) and `sudo -n -u gitlab-runner -H`. The scripts come from
 * shell-plan.ts; this only sends them and reads what comes back:
 *   1. the pipeline's commit and the dependencies' artifacts, one tar stream into the builds dir;
 *   2. before_script + script (values on stdin, in a 0600 script in `<project dir>.tmp`), streamed
 *      through the masking; a cancel or the timeout signals the step's whole process group;
 *   3. after_script, whatever the script did (not after a cancel or timeout);
 *   4. artifacts:paths back into the checkout's `.gitlab-ci-local/artifacts/<job>/`, where
 *      gitlab-ci-local's docker jobs find them (and where their artifacts come from);
 *   5. the tmp dir removed (file variables, scripts).
 */

export interface ShellJobSpec {
  /** From preparePipelineCheckout: the commit's files and the artifacts dir come from here. */
  checkoutDir: string;
  sha: string;
  jobName: string;
  job: ShellJob;
  /** namespace/project: the builds dir's last two levels. */
  projectPath: string;
  node: SshTarget;
  ssh: Omit<SshSettings, "port"> & { port?: number };
  /** The runner's short token (runnerShortToken) and its concurrent project slot for this job. */
  runner: { shortToken: string; slot: number };
  /** Every job variable (predefined, YAML, project); CI_PROJECT_DIR and CI_BUILDS_DIR are the runner's own. */
  variables: JobVariable[];
  /** Trace chunks, already scrubbed of masked values. */
  onOutput: (text: string) => void;
  /** Abort: the job's processes on the node are stopped, and runShellJob returns `canceled`. */
  signal?: AbortSignal;
  timeoutMs: number;
}

/** The artifacts dir gitlab-ci-local keeps for a job in a checkout. */
export function artifactsDir(checkoutDir: string, jobName: string): string {
  return join(checkoutDir, STATE_DIR, "artifacts", gitlabCiLocalSafeName(jobName));
}

/** The pipeline as gitlab-ci-local expands it (--preview), once per checkout: the YAML variables come from it. */
export async function pipelinePreview(checkoutDir: string): Promise<string> {
  const file = join(checkoutDir, ".git", "pifleet-preview.yml");
  return withFileLock(`${file}.lock`, async () => {
    const cached = await readFile(file, "utf8").catch(() => undefined);
    if (cached !== undefined) return cached;
    const preview = await run(GITLAB_CI_LOCAL, ["--preview"], {
      cwd: checkoutDir,
      env: gitlabCiLocalEnv(),
      timeoutMs: 60_000,
      describe: "gitlab-ci-local --preview",
    });
    await writeFileAtomic(file, preview.stdout, { mode: 0o600 });
    return preview.stdout;
  });
}

interface Session {
  shell: NodeShell;
  spec: ShellJobSpec;
  layout: ShellBuildLayout;
  write: (text: string) => void;
}

async function prepare(s: Session, signal: AbortSignal): Promise<void> {
  const { spec, layout } = s;
  s.write(`Getting source: the pipeline's commit ${spec.sha.slice(0, 8)} copied to ${layout.projectDir} (no git fetch on the node)\n`);
  const dirs = spec.job.dependencies.map((d) => artifactsDir(spec.checkoutDir, d));
  for (const d of spec.job.dependencies) s.write(`Downloading artifacts of ${d}\n`);
  await s.shell.pipeTo(
    spec.node,
    ["bash", ["-c", SEND_PROGRAM, "send", spec.checkoutDir, spec.sha, ...dirs]],
    asRunnerUser(PREPARE_PROGRAM, "prepare", [layout.projectDir, layout.tmpDir]),
    { signal, onStderr: s.write, describe: `copy the job's files to ${layout.projectDir}` },
  );
}

async function step(
  s: Session,
  name: string,
  commands: readonly string[],
  jobStatus: "running" | "success" | "failed",
  signal: AbortSignal,
) {
  const { spec, layout } = s;
  const variables = [...jobVariables(spec.variables), ...runnerVariables(layout, spec.runner)];
  const result = await s.shell.run(spec.node, asRunnerUser(STEP_PROGRAM, "step", [layout.tmpDir, name]), {
    input: stepScript({ variables, layout, commands, jobStatus }),
    signal,
    allowFailure: true,
    onOutput: s.write,
    describe: `${name} of ${spec.jobName}`,
  });
  return result.code;
}

async function collect(s: Session, succeeded: boolean): Promise<void> {
  const { spec, layout } = s;
  const artifacts = spec.job.artifacts;
  if (!artifacts || !collectsArtifacts(artifacts.when, succeeded)) return;
  s.write(`Uploading artifacts for ${succeeded ? "successful" : "failed"} job\n`);
  const { patterns, refused } = artifactPatterns(artifacts.paths, spec.variables, layout.projectDir);
  for (const path of refused) s.write(`WARNING: ${path}: not inside the project dir, not collected\n`);
  const dest = artifactsDir(spec.checkoutDir, spec.jobName);
  await rm(dest, { recursive: true, force: true });
  await mkdir(dest, { recursive: true });
  if (patterns.length === 0) return;
  const ssh = { ...spec.ssh, port: spec.ssh.port ?? 22 };
  const remote = shellJoin(asRunnerUser(COLLECT_PROGRAM, "collect", [layout.projectDir, `${layout.tmpDir}/artifacts`, ...patterns]));
  await processRunner.pipe(["ssh", [...sshArgs(ssh, spec.node), remote]], ["tar", ["-x", "--no-same-owner", "-f", "-", "-C", dest]], {
    onStderr: s.write,
    timeoutMs: AFTER_SCRIPT_TIMEOUT_MS,
    describe: `on ${spec.node.name}: collect the artifacts of ${spec.jobName}`,
  });
}

/** Stops the step's process group on the node (SIGTERM, SIGKILL after the grace), and keeps a step not started yet from starting. */
async function killStep(s: Session): Promise<void> {
  await s.shell.run(s.spec.node, asRunnerUser(KILL_PROGRAM, "kill", [s.layout.tmpDir, String(CANCEL_GRACE_S)]), {
    allowFailure: true,
    timeoutMs: (CANCEL_GRACE_S + 20) * 1000,
    describe: `stop ${s.spec.jobName}`,
  });
}

export async function runShellJob(spec: ShellJobSpec): Promise<RunJobResult> {
  const started = Date.now();
  if (spec.signal?.aborted) return { exitCode: -1, durationMs: 0, status: "canceled" };
  const masked = maskingStream(
    jobVariables(spec.variables)
      .filter((v) => v.masked)
      .map((v) => v.value),
    spec.onOutput,
  );
  const layout = shellBuildLayout({ ...spec.runner, projectPath: spec.projectPath });
  const shell = sshShell({ ...spec.ssh, port: spec.ssh.port ?? 22 });
  const s: Session = { shell, spec, layout, write: (text) => masked.write(text) };
  const stop = new AbortController();
  let stopped: "canceled" | "timeout" | undefined;
  const cancel = () => {
    stopped ??= "canceled";
    stop.abort();
  };
  spec.signal?.addEventListener("abort", cancel, { once: true });
  const timer = setTimeout(() => {
    stopped ??= "timeout";
    stop.abort();
  }, spec.timeoutMs);
  const ended = (): RunJobResult => {
    const durationMs = Date.now() - started;
    return stopped === "timeout"
      ? { exitCode: 124, durationMs, status: "failed", failureReason: "job_execution_timeout" }
      : { exitCode: -1, durationMs, status: "canceled" };
  };
  try {
    s.write(`Running on ${spec.node.name} (${spec.node.address}) as ${RUNNER_USER}, shell executor (bash)\n`);
    await prepare(s, stop.signal);
    s.write(`Executing "step_script" stage of the job script\n`);
    const exitCode = await step(s, "step_script", spec.job.script, "running", stop.signal);
    if (stopped) {
      await killStep(s);
      return ended();
    }
    const succeeded = exitCode === 0;
    if (spec.job.afterScript.length > 0) {
      s.write("Running after_script\n");
      const after = AbortSignal.any([stop.signal, AbortSignal.timeout(AFTER_SCRIPT_TIMEOUT_MS)]);
      const code = await step(s, "after_script", spec.job.afterScript, succeeded ? "success" : "failed", after).catch(async (err) => {
        if (!after.aborted) throw err;
        await killStep(s);
        return -1;
      });
      if (stopped) return ended();
      if (code !== 0) s.write(`WARNING: after_script failed (exit ${code}), the job's status stands\n`);
    }
    await collect(s, succeeded);
    const durationMs = Date.now() - started;
    return succeeded
      ? { exitCode, durationMs, status: "success" }
      : { exitCode, durationMs, status: "failed", failureReason: "script_failure" };
  } catch (err) {
    if (!stopped) throw err;
    await killStep(s);
    return ended();
  } finally {
    clearTimeout(timer);
    spec.signal?.removeEventListener("abort", cancel);
    s.write("Cleaning up project directory and file based variables\n");
    await shell
      .run(spec.node, asRunnerUser(CLEANUP_PROGRAM, "cleanup", [layout.tmpDir]), {
        allowFailure: true,
        describe: "remove the job's tmp dir",
      })
      .catch((err: unknown) => masked.write(`WARNING: could not remove ${layout.tmpDir}: ${String(err)}\n`));
    masked.end();
    await shell.close();
  }
}
