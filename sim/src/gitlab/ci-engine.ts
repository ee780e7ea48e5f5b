import { randomBytes } from "node:crypto";
import { runnerShortToken } from "../ci-runner/shell-plan.js";
import { keepArtifacts } from "./artifacts.js";
import { advancePipelines } from "./ci-advance.js";
import { type JobChange, updateJob, whyRunnerCannotPick } from "./ci-jobs.js";
import { dependenciesOf, hasCapacity, jobTimeoutSeconds, pickJob } from "./ci-schedule.js";
import { ACTIVE_STATUSES, type CiStatus, ciState, type SimCiJob, type SimPipeline } from "./ci-state.js";
import { markIfStuck, markJobsRunnable, SIM_EXECUTORS, type SimExecutor } from "./ci-stuck.js";
import { recordContact } from "./contact.js";
import type { Emulator } from "./context.js";
import { jobPayload, jobVariables, payloadRecord } from "./job-payload.js";
import { defaultBranch, pathWithNamespace, repositoryDir } from "./repository.js";
import type { RunnerConfigReport, SimRunner } from "./state.js";

/**
 * The engine half of the sim's runners: a runner that asks for a job (POST /jobs/request) gets the
 * oldest pending job GitLab would give it, and the emulator then runs that job itself on the
 * runner's node through the injected executor (gitlab-ci-local, job-executor.ts): the stand-in on
 * the node only asks. Trace, status, times and the runner are recorded as the job goes.
 */

/** One job for the executor: where it runs, as whom, with what. */
export interface JobRun {
  projectId: number;
  pipelineId: number;
  jobId: number;
  jobName: string;
  /** The project's URL (no .git), where the job's CI_PROJECT_* come from. */
  projectUrl: string;
  /** The project's bare repository and the pipeline's commit. */
  repoDir: string;
  sha: string;
  defaultBranch: string;
  /** What `rules:changes` compares with (null: every changes rule matches). */
  changesBase: string | null;
  /** The runner's node: its host name and the address its job request came from. */
  node: { name: string; address: string };
  /** The node's architecture, as the runner reported it (amd64, arm64). */
  architecture: string;
  /** The runner's executor: docker (gitlab-ci-local runs the job in a container) or shell (as the runner's user on the node). */
  executor: SimExecutor;
  /** gitlab-runner's short token of the runner (it names the shell executor's builds dir). */
  runnerShortToken: string;
  /** The runner's [runners.docker] settings. */
  docker: { volumes: string[]; defaultImage?: string };
  /** The job as the runner's payload has it: what a shell executor runs (gitlab-ci-local reads the file itself for docker jobs). */
  job: { steps: Array<{ name: string; script: string[] }>; artifacts: Array<{ paths: string[]; when: string }>; dependencies: string[] };
  /** Every variable of the job (predefined ones public, then project), as the runner gets them. */
  variables: Array<{ key: string; value: string; file: boolean; masked: boolean; public: boolean }>;
  timeoutMs: number;
  /** Trace chunks. */
  onOutput(text: string): void;
  /** Aborted on cancel and on timeout: the executor stops the job and returns (or throws). */
  signal: AbortSignal;
}

/** How a job ended: its exit code, and GitLab's status and failure reason when the executor knows better than the code. */
export interface JobResult {
  exitCode: number;
  /** E.g. failed for an allow_failure job whose script failed (gitlab-ci-local exits 0 then). */
  status?: "success" | "failed" | "canceled";
  failureReason?: string;
  /** Where the executor collected the job's artifacts (artifacts:paths, per artifacts:when); the emulator keeps them. */
  artifactsDir?: string;
}

/** Runs one job to its end. Throwing means the runner failed (system failure). */
export type JobExecutor = (run: JobRun) => Promise<JobResult>;

/** What a runner reported when it asked (info and the request's source address). */
export interface RunnerReport {
  systemId?: string;
  executor?: string;
  architecture?: string;
  ipAddress: string;
  config?: RunnerConfigReport;
}

/** How the trace's first line names each executor. */
const EXECUTOR_NAMES: Record<SimExecutor, string> = {
  docker: "gitlab-ci-local, docker executor",
  shell: "shell executor, as gitlab-runner on the node over SSH",
};

/** At most this many jobs run at once in the emulator: the sim shares a 2-core machine. */
export const MAX_RUNNING_JOBS = 3;
const TRACE_FLUSH_MS = 1000;
/** A runner that runs a job keeps reporting (gitlab-runner's trace and status updates move contacted_at). */
const HEARTBEAT_MS = 30_000;
/** The executor's own hard stop comes this long after the job's timeout (which aborts it first). */
const EXECUTOR_GRACE_MS = 60_000;

interface ActiveRun {
  token: string;
  controller: AbortController;
  /** Why the run was aborted, if it was. */
  stop?: "canceled" | "timeout" | "shutdown";
  done: Promise<void>;
}

/** Statuses a job can be canceled from (Ci::HasStatus::CANCELABLE_STATUSES). */
const CANCELABLE: readonly CiStatus[] = [
  "running",
  "waiting_for_resource",
  "waiting_for_callback",
  "preparing",
  "pending",
  "created",
  "scheduled",
];

export class CiEngine {
  private readonly active = new Map<number, ActiveRun>();
  /** Set by close: nothing is handed out any more. */
  private closed = false;

  constructor(
    private readonly emu: Emulator,
    private readonly executor: JobExecutor | undefined,
  ) {
    if (executor) markJobsRunnable(emu);
  }

  /** Whether this emulator can run jobs at all (an executor was given: `sim up` passes the nodes' SSH access). */
  get canRun(): boolean {
    return this.executor !== undefined;
  }

  /** The running job a CI_JOB_TOKEN belongs to; tokens expire when their job ends. */
  jobForToken(token: string): SimCiJob | undefined {
    for (const [id, run] of this.active) if (run.token === token) return ciState(this.emu.state).jobs.find((j) => j.id === id);
    return undefined;
  }

  /**
   * The job GitLab would give this runner now, assigned to it and started on its node, as the payload
   * the runner receives; undefined when there is none (or the sim cannot run this runner's jobs).
   */
  request(runner: SimRunner, report: RunnerReport): ReturnType<typeof jobPayload> | undefined {
    const executor = SIM_EXECUTORS.find((e) => e === report.executor);
    if (this.closed || !this.executor || !executor || this.active.size >= MAX_RUNNING_JOBS) return undefined;
    const ci = ciState(this.emu.state);
    const running = ci.jobs.filter((j) => ACTIVE_STATUSES.includes(j.status));
    const onRunner = running.filter((j) => j.runner_id === runner.id).length;
    const inProcess = running.filter((j) => report.systemId !== undefined && j.system_id === report.systemId).length;
    if (!hasCapacity(report.config, onRunner, inProcess)) return undefined;
    const pipelines = new Map(ci.pipelines.map((p) => [p.id, p]));
    const job = pickJob(ci.jobs, (j) => {
      const pipeline = pipelines.get(j.pipeline_id);
      return pipeline?.stages !== undefined && whyRunnerCannotPick(this.emu, runner, j, pipeline) === undefined;
    });
    const pipeline = job && pipelines.get(job.pipeline_id);
    if (!job || !pipeline) return undefined;
    return this.assign(job, pipeline, runner, report, executor);
  }

  private assign(job: SimCiJob, pipeline: SimPipeline, runner: SimRunner, report: RunnerReport, executor: SimExecutor) {
    const emu = this.emu;
    const project = emu.state.projects.find((p) => p.id === job.project_id);
    if (!project) return undefined;
    // The stuck note was the emulator's, not the runner's: the trace starts over with the runner's output.
    updateJob(emu, job, { status: "running", runner_id: runner.id, system_id: report.systemId ?? null, trace: "" });
    markIfStuck(emu, job, pipeline);
    const token = `glcbt-${randomBytes(15).toString("base64url")}`;
    const timeoutSeconds = jobTimeoutSeconds(job.timeout_s, runner.maximum_timeout);
    const user = emu.state.users.find((u) => u.id === pipeline.user_id);
    const facts = {
      job,
      pipeline,
      runner,
      baseUrl: emu.baseUrl(),
      projectPath: pathWithNamespace(emu, project),
      projectName: project.name,
      token,
      projectVariables: ciState(emu.state).variables.filter((v) => v.project_id === project.id),
      timeoutSeconds,
      user,
    };
    const variables = jobVariables(facts, defaultBranch(project));
    // What the runner got, by key only, for the control API (who received which protected variable, on which runner).
    job.payload_record = payloadRecord(facts, variables, defaultBranch(project), emu.now());
    const pipelineJobs = ciState(emu.state).jobs.filter((j) => j.pipeline_id === pipeline.id);
    const dependencies = dependenciesOf(job, pipelineJobs, pipeline.stages ?? []).filter((d) => d.status === "success");
    const payload = jobPayload(facts, variables, dependencies);
    const run: Omit<JobRun, "onOutput" | "signal"> = {
      projectId: project.id,
      pipelineId: pipeline.id,
      jobId: job.id,
      jobName: job.name,
      projectUrl: `${emu.baseUrl()}/${pathWithNamespace(emu, project)}`,
      repoDir: repositoryDir(emu, project),
      sha: pipeline.sha,
      defaultBranch: defaultBranch(project),
      changesBase: pipeline.changes_base ?? null,
      node: { name: report.config?.node ?? report.ipAddress, address: report.ipAddress },
      architecture: report.architecture ?? "amd64",
      executor,
      runnerShortToken: runnerShortToken(runner.token),
      docker: { volumes: report.config?.docker?.volumes ?? [], defaultImage: report.config?.docker?.image },
      job: {
        steps: payload.steps.map(({ name, script }) => ({ name, script })),
        artifacts: payload.artifacts.map(({ paths, when }) => ({ paths, when })),
        dependencies: payload.dependencies.map((d) => d.name),
      },
      variables: variables.map(({ key, value, file, masked, public: isPublic }) => ({ key, value, file, masked, public: isPublic })),
      timeoutMs: timeoutSeconds * 1000,
    };
    this.start(job, runner, report, token, run);
    return payload;
  }

  /** Runs the job in the background: trace flushed every second, the runner heartbeating, the timeout enforced. */
  private start(job: SimCiJob, runner: SimRunner, report: RunnerReport, token: string, spec: Omit<JobRun, "onOutput" | "signal">): void {
    const emu = this.emu;
    const controller = new AbortController();
    let buffer = `Running with the pifleet sim runner (${EXECUTOR_NAMES[spec.executor]}) on ${spec.node.name} (${spec.node.address}), runner #${runner.id} ${runner.description}\n`;
    const flush = () => {
      if (buffer.length === 0) return;
      // CI_JOB_TOKEN is masked like GitLab masks it; project variables are masked by updateJob.
      const text = buffer.split(token).join("[MASKED]");
      buffer = "";
      updateJob(emu, job, { append_trace: text });
    };
    const active: ActiveRun = { token, controller, done: Promise.resolve() };
    const flushTimer = setInterval(flush, TRACE_FLUSH_MS);
    const heartbeat = setInterval(() => {
      // By id: an edit through the API replaces the runner's record.
      const current = emu.state.runners.find((r) => r.id === runner.id);
      if (current) recordContact(emu, current, { at: emu.now(), systemId: report.systemId });
    }, HEARTBEAT_MS);
    const timeout = setTimeout(() => {
      active.stop = "timeout";
      controller.abort();
    }, spec.timeoutMs);
    const executor = this.executor;
    if (!executor) return;
    active.done = executor({
      ...spec,
      timeoutMs: spec.timeoutMs + EXECUTOR_GRACE_MS,
      signal: controller.signal,
      onOutput: (text) => {
        buffer += text;
      },
    })
      .then(
        async (result) => {
          // Uploaded before the job ends, as gitlab-runner does: a later job (or a job token) finds them.
          if (result.artifactsDir && !active.stop) {
            await keepArtifacts(emu, job.id, result.artifactsDir).catch((err: unknown) => {
              buffer += `WARNING: Uploading artifacts failed: ${(err as Error).message}\n`;
            });
          }
          return outcome(active.stop, result, spec.timeoutMs);
        },
        (err: unknown) => outcome(active.stop, err instanceof Error ? err : new Error(String(err)), spec.timeoutMs),
      )
      .then((change) => {
        clearInterval(flushTimer);
        clearInterval(heartbeat);
        clearTimeout(timeout);
        flush();
        // Someone may have finished it meanwhile (the control API): then it keeps what they set.
        if (ACTIVE_STATUSES.includes(job.status)) updateJob(emu, job, change);
        this.active.delete(job.id);
        advancePipelines(emu);
      });
    this.active.set(job.id, active);
  }

  /** POST …/jobs/:id/cancel: a running job is aborted (canceling, then canceled); a waiting one is canceled at once. */
  cancelJob(job: SimCiJob): void {
    const run = this.active.get(job.id);
    if (run) {
      if (!run.stop) {
        run.stop = "canceled";
        updateJob(this.emu, job, { status: "canceling" });
        run.controller.abort();
      }
      return;
    }
    if (!CANCELABLE.includes(job.status)) return;
    updateJob(this.emu, job, { status: "canceled" });
    advancePipelines(this.emu);
  }

  /** POST …/pipelines/:id/cancel: every cancelable job of the pipeline. */
  cancelPipeline(pipeline: SimPipeline): void {
    for (const job of ciState(this.emu.state).jobs) if (job.pipeline_id === pipeline.id) this.cancelJob(job);
  }

  /** Resolves when no job runs (tests). */
  async idle(): Promise<void> {
    while (this.active.size > 0) await Promise.allSettled([...this.active.values()].map((r) => r.done));
  }

  /** The emulator is stopping: running jobs are aborted and fail as a runner would on a lost system. */
  async close(): Promise<void> {
    this.closed = true;
    for (const run of this.active.values()) {
      run.stop ??= "shutdown";
      run.controller.abort();
    }
    await this.idle();
  }

  /**
   * Jobs the engine ran when the emulator stopped uncleanly are not running any more: they fail as a
   * lost runner's jobs do. (Jobs moved by the control API, in pipelines without stages, are left alone.)
   */
  recoverInterrupted(): void {
    const ci = ciState(this.emu.state);
    const engineRun = new Set(ci.pipelines.filter((p) => p.stages !== undefined).map((p) => p.id));
    for (const job of ci.jobs) {
      if (!engineRun.has(job.pipeline_id) || !ACTIVE_STATUSES.includes(job.status)) continue;
      updateJob(this.emu, job, {
        status: "failed",
        failure_reason: "runner_system_failure",
        append_trace: "ERROR: Job failed (system failure): the emulator stopped while the job ran\n",
      });
    }
    advancePipelines(this.emu);
  }
}

/** How a run ended, as the job's last change: status, failure reason and gitlab-runner's closing line. */
export function outcome(stop: ActiveRun["stop"], result: JobResult | Error, timeoutMs: number): JobChange {
  if (stop === "canceled") return { status: "canceled" };
  if (stop === "timeout") {
    return {
      status: "failed",
      failure_reason: "job_execution_timeout",
      append_trace: `ERROR: Job failed: execution took longer than ${Math.round(timeoutMs / 1000)} seconds\n`,
    };
  }
  if (stop === "shutdown") {
    return {
      status: "failed",
      failure_reason: "runner_system_failure",
      append_trace: "ERROR: Job failed (system failure): the emulator stopped\n",
    };
  }
  if (result instanceof Error) {
    return {
      status: "failed",
      failure_reason: "runner_system_failure",
      append_trace: `ERROR: Job failed (system failure): ${result.message}\n`,
    };
  }
  if (result.status === "canceled") return { status: "canceled" };
  if ((result.status ?? (result.exitCode === 0 ? "success" : "failed")) === "success") {
    return { status: "success", append_trace: "Job succeeded\n" };
  }
  return {
    status: "failed",
    failure_reason: result.failureReason ?? "script_failure",
    append_trace: `ERROR: Job failed: exit code ${result.exitCode}\n`,
  };
}

const engines = new WeakMap<Emulator, CiEngine>();

/** The emulator's engine (created on first use; without an executor it assigns nothing). */
export function ciEngine(emu: Emulator, executor?: JobExecutor): CiEngine {
  let engine = engines.get(emu);
  if (!engine) {
    engine = new CiEngine(emu, executor);
    engines.set(emu, engine);
  }
  return engine;
}
