import { constants } from "node:fs";
import { access, chmod, mkdir, mkdtemp, readFile, realpath, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join, relative } from "node:path";
import { EnvironmentError, InputError } from "@pifleet/fleet";
import { type ExecResult, run, shellQuote, writeFileAtomic } from "@pifleet/io";
import { GITLAB_CI_LOCAL } from "../gitlab/ci-evaluate.js";
import { cacheIntoCheckout, cacheOutOfCheckout } from "./cache-sync.js";
import { sweepFileVariableLitter } from "./file-variable-litter.js";
import {
  type FailureReason,
  gitlabCiLocalArgs,
  type JobVariable,
  jobOutcome,
  jobVariables,
  sshConfigText,
  variablesFileText,
} from "./invocation.js";
import { leftoverVolumes, volumeFilter } from "./job-leftovers.js";
import { maskingStream } from "./masking.js";

/**
 * The executor half of a sim runner: runs ONE CI job of a pipeline checkout (preparePipelineCheckout)
 * with gitlab-ci-local, in a container on the runner's node (the docker executor), and reports how it
 * ended. The scheduler decides which job runs where and records the result; this only runs it.
 *
 * - The node's Docker engine is reached with `DOCKER_HOST=ssh://<user>@<address>`: docker runs `ssh`
 *   from PATH, so a per-run wrapper makes that `ssh -F <per-run config>` (the sim's key, the pinned
 *   host key, one shared connection; OpenSSH reads ~/.ssh/config from the passwd entry, not $HOME).
 * - Variables travel in a 0600 file (`--variables-file`), never in argv or the environment; they
 *   override gitlab-ci-local's own predefined variables, except CI_PROJECT_DIR and CI_BUILDS_DIR, which
 *   the runner decides (RUNNER_OWNED_VARIABLES). File variables reach the job as a path to a file.
 * - Masked values are replaced by [MASKED] in everything passed to onOutput.
 * - gitlab-ci-local runs under `timeout -k`: at timeoutMs (or on abort) its whole process group gets
 *   SIGTERM (gitlab-ci-local then removes the job's containers and volumes on the node; what it did not
 *   know of yet, the executor removes after it: job-leftovers.ts), and SIGKILL
 *   KILL_GRACE_S later if it has not ended. An abort signals timeout(1) alone, once: a tree kill
 *   would also end the docker commands gitlab-ci-local starts for that clean-up, and leave them behind.
 * - Caches: the project's cache dir (next to the checkouts) is copied into the checkout's state dir
 *   before the run and back after it (cache-sync.ts).
 * - Several runJob calls may run side by side in one checkout (different jobs of one pipeline, on
 *   the same or different nodes): per job, gitlab-ci-local keeps its own output log, script and
 *   artifact dirs, and the one shared step (the build copy) is done by preparePipelineCheckout.
 */

export interface RunJobSpec {
  /** From preparePipelineCheckout. */
  checkoutDir: string;
  /** As in .gitlab-ci.yml / --list-json (may contain ':' and spaces; parallel:matrix names like "build: [amd64]"). */
  jobName: string;
  /** preparePipelineCheckout's evaluateChanges: false runs with --no-evaluate-rule-changes. */
  evaluateChanges: boolean;
  /** Where the runner lives. */
  node: { name: string; address: string };
  /** The sim's key and pinned known_hosts; port defaults to 22. */
  ssh: { user: string; privateKey: string; knownHosts: string; port?: number };
  executor: "docker";
  /** From the runner's config.toml [runners.docker]: `volumes`, and `image` (for jobs without image:). */
  docker: { volumes: string[]; defaultImage?: string };
  /** A bash + rsync image present on the node (ensureHelperImage). */
  helperImage: string;
  /** ALL job variables, predefined ones included. */
  variables: JobVariable[];
  /** A private dir for per-run files (ssh config, variables file); runs may share it. Created 0700. */
  stateHome: string;
  /** Trace chunks, already scrubbed of masked values. */
  onOutput: (text: string) => void;
  /** Abort: the job (and its container) is stopped, and runJob returns `canceled`. */
  signal?: AbortSignal;
  timeoutMs: number;
}

export interface RunJobResult {
  /** gitlab-ci-local's exit status (1 when the job failed and allow_failure did not let it pass); 124 on timeout; -1 when canceled before it started. */
  exitCode: number;
  durationMs: number;
  /** GitLab's job status: `failed` also for a failed allow_failure job (gitlab-ci-local exits 0 then). */
  status: "success" | "failed" | "canceled";
  /** GitLab's failure_reason, for failed jobs. */
  failureReason?: FailureReason;
}

/** How long gitlab-ci-local gets to remove its containers after SIGTERM before it is killed. */
export const KILL_GRACE_S = 30;

/** timeout(1)'s exit status when the time ran out (137 instead when it had to SIGKILL). */
const TIMED_OUT_EXIT = 124;

/** The ssh binary docker would have found, for the wrapper to call. */
async function sshBinary(path: string | undefined): Promise<string> {
  for (const dir of (path ?? "").split(delimiter).filter(Boolean)) {
    const candidate = join(dir, "ssh");
    if (
      await access(candidate, constants.X_OK).then(
        () => true,
        () => false,
      )
    )
      return candidate;
  }
  throw new EnvironmentError("ssh is not installed", "Install openssh-client (scripts/setup does).");
}

/**
 * On abort, SIGTERM to the pid in pidFile (timeout(1), which passes it on to its process group once).
 * The file may not be written yet when the abort comes: it is looked for until dispose().
 */
function cancelOnAbort(signal: AbortSignal | undefined, pidFile: string): { dispose: () => void } {
  if (!signal) return { dispose: () => undefined };
  let timer: NodeJS.Timeout | undefined;
  let disposed = false;
  const terminate = async () => {
    if (disposed) return;
    const pid = Number.parseInt(await readFile(pidFile, "utf8").catch(() => ""), 10);
    if (Number.isInteger(pid) && pid > 0) {
      try {
        process.kill(pid, "SIGTERM");
      } catch {
        // Already ended.
      }
      return;
    }
    timer = setTimeout(() => void terminate(), 100);
  };
  const onAbort = () => void terminate();
  signal.addEventListener("abort", onAbort, { once: true });
  if (signal.aborted) onAbort();
  return {
    dispose: () => {
      disposed = true;
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
    },
  };
}

/** The tail of a stream, for reading gitlab-ci-local's closing report. */
function tailKeeper(limit: number) {
  let text = "";
  return {
    push: (chunk: string) => {
      text = (text + chunk).slice(-limit);
    },
    text: () => text,
  };
}

export async function runJob(spec: RunJobSpec): Promise<RunJobResult> {
  if (spec.executor !== "docker")
    throw new InputError(
      `runJob runs docker-executor jobs, not ${JSON.stringify(spec.executor)}`,
      "Run shell-executor jobs with runShellJob (shell-job.ts).",
    );
  const variables = jobVariables(spec.variables);
  const started = Date.now();
  if (spec.signal?.aborted) return { exitCode: -1, durationMs: 0, status: "canceled" };
  const masked = maskingStream(
    variables.filter((v) => v.masked).map((v) => v.value),
    spec.onOutput,
  );
  await mkdir(spec.stateHome, { recursive: true, mode: 0o700 });
  await chmod(spec.stateHome, 0o700);
  const home = await mkdtemp(join(spec.stateHome, "job-"));
  // A Unix socket path is limited to ~100 bytes: the shared connection's socket lives under /tmp.
  const sockets = await mkdtemp(join(tmpdir(), "pf-gcl-ssh-"));
  const ssh = await sshBinary(process.env.PATH);
  const sshConfig = join(home, "ssh_config");
  const destination = spec.node.address;
  try {
    await writeFileAtomic(
      sshConfig,
      sshConfigText({ ...spec.ssh, port: spec.ssh.port ?? 22, address: destination, controlPath: join(sockets, "%C") }),
      { mode: 0o600 },
    );
    await mkdir(join(home, "bin"), { mode: 0o700 });
    await writeFileAtomic(join(home, "bin", "ssh"), `#!/bin/sh\nexec ${shellQuote(ssh)} -F ${shellQuote(sshConfig)} "$@"\n`, {
      mode: 0o700,
    });
    const variablesFile = join(home, "variables.json");
    await writeFileAtomic(variablesFile, variablesFileText(variables), { mode: 0o600 });
    // gitlab-ci-local joins --variables-file to its cwd (the checkout's real path).
    const relativeVariablesFile = relative(await realpath(spec.checkoutDir), join(await realpath(home), "variables.json"));
    const args = gitlabCiLocalArgs({
      jobName: spec.jobName,
      evaluateChanges: spec.evaluateChanges,
      helperImage: spec.helperImage,
      volumes: spec.docker.volumes,
      defaultImage: spec.docker.defaultImage,
      variablesFile: relativeVariablesFile,
      variableKeys: variables.map((v) => v.key),
    });
    masked.write(`Running with gitlab-ci-local on ${spec.node.name} (${spec.node.address}), docker executor\n`);
    // The node's engine as gitlab-ci-local reaches it (same ssh wrapper and connection): for a stopped job's leftovers.
    const docker = (args: string[]) =>
      run("docker", args, {
        env: {
          PATH: `${join(home, "bin")}${delimiter}${process.env.PATH ?? ""}`,
          HOME: home,
          DOCKER_HOST: `ssh://${spec.ssh.user}@${destination}`,
        },
        allowFailure: true,
        timeoutMs: 60_000,
        describe: `docker ${args.slice(0, 2).join(" ")} on ${spec.node.name}`,
      });
    const listVolumes = async () => (await docker(["volume", "ls", "-q", "--filter", `name=${volumeFilter(spec.jobName)}`])).stdout;
    const volumesBefore = new Set((await listVolumes()).split("\n"));
    const removeLeftovers = async () => {
      for (const volume of leftoverVolumes(await listVolumes(), spec.jobName, volumesBefore)) {
        const containers = (await docker(["ps", "-aq", "--filter", `volume=${volume}`])).stdout.split("\n").filter(Boolean);
        if (containers.length > 0) await docker(["rm", "-vf", ...containers]);
        await docker(["volume", "rm", volume]);
      }
    };
    await sweepFileVariableLitter(60_000);
    await cacheIntoCheckout(spec.checkoutDir);
    const stdout = tailKeeper(64 * 1024);
    const timeoutS = Math.max(1, Math.ceil(spec.timeoutMs / 1000));
    const pidFile = join(home, "timeout.pid");
    const cancel = cancelOnAbort(spec.signal, pidFile);
    let result: ExecResult;
    try {
      // umask 077: the files gitlab-ci-local writes (file variables under /tmp, output logs) are this user's only.
      // The shell writes its pid, then becomes timeout(1): that pid is what an abort signals.
      result = await run(
        "sh",
        [
          "-c",
          'umask 077 && echo $$ >"$1" && shift && exec "$@"',
          "sh",
          pidFile,
          "timeout",
          "-k",
          `${KILL_GRACE_S}s`,
          `${timeoutS}s`,
          GITLAB_CI_LOCAL,
          ...args,
        ],
        {
          cwd: spec.checkoutDir,
          // Only what it needs: nothing of this process's GCL_* or DOCKER_* settings, no secrets.
          env: {
            PATH: `${join(home, "bin")}${delimiter}${process.env.PATH ?? ""}`,
            HOME: home,
            LANG: "C.UTF-8",
            NO_COLOR: "1",
            DOCKER_HOST: `ssh://${spec.ssh.user}@${destination}`,
          },
          allowFailure: true,
          // A backstop only: timeout(1) ends it first.
          timeoutMs: spec.timeoutMs + (KILL_GRACE_S + 30) * 1000,
          onOutput: (chunk) => masked.write(chunk),
          onStdout: (chunk) => stdout.push(chunk),
          describe: `gitlab-ci-local ${spec.jobName}`,
        },
      );
    } catch (err) {
      masked.end();
      const durationMs = Date.now() - started;
      if (spec.signal?.aborted) {
        await removeLeftovers();
        return { exitCode: -1, durationMs, status: "canceled" };
      }
      throw err;
    } finally {
      cancel.dispose();
    }
    masked.end();
    await cacheOutOfCheckout(spec.checkoutDir);
    const durationMs = Date.now() - started;
    const timedOut = result.code === TIMED_OUT_EXIT || (durationMs >= spec.timeoutMs && result.code !== 0);
    // Only a stopped job: one that ran to its end was cleaned up by gitlab-ci-local itself.
    if (spec.signal?.aborted || timedOut) await removeLeftovers();
    if (spec.signal?.aborted) return { exitCode: result.code, durationMs, status: "canceled" };
    return { exitCode: result.code, durationMs, ...jobOutcome({ exitCode: result.code, stdout: stdout.text(), timedOut }) };
  } finally {
    // The shared connection is this run's own (its socket dir too): end it, then remove the files.
    await run(ssh, ["-F", sshConfig, "-O", "exit", destination], { allowFailure: true, timeoutMs: 10_000, describe: "ssh -O exit" }).catch(
      () => undefined,
    );
    await rm(home, { recursive: true, force: true });
    await rm(sockets, { recursive: true, force: true });
    await sweepFileVariableLitter(60_000);
  }
}
