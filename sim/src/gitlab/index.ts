import { mkdtempSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OperationError } from "@pifleet/fleet";
import { buildApp } from "./app.js";
import { ciEngine, type JobExecutor } from "./ci-engine.js";
import { runnerQueue } from "./ci-queue.js";
import type { Emulator } from "./context.js";
import { newControlSecret, writeControlSecret } from "./control-secret.js";
import { FaultQueue } from "./faults.js";
import { checkListenHost } from "./listen-address.js";
import { loadOrSeedState, lockStateDir, saveState, writeTokenFile } from "./persistence.js";
import { pipelineTriggersSettled } from "./pipeline-triggers.js";
import { RequestLog } from "./request-log.js";
import { type SimState, seedState } from "./state.js";

export type { JobExecutor, JobRun } from "./ci-engine.js";
export { CONTROL_SECRET_HEADER, controlHeaders, readControlSecret, simControlHeaders } from "./control-secret.js";

export interface GitlabEmulatorOptions {
  /** Default 127.0.0.1. Only loopback or a sim network address in 198.18.0.0/15 is accepted (InputError otherwise). */
  host?: string;
  /** Default 0: any free port (read the chosen one from `url`). */
  port?: number;
  /** Where state and the admin token file live; without it the state is in memory only. */
  stateDir?: string;
  /** The clock, for tests of status derivation; default the real one. */
  now?: () => Date;
  /**
   * Runs the jobs runners take (ci-engine.ts). Without one the emulator assigns no job: pending
   * jobs stay pending, as if no runner could execute them. `sim up` gives the SSH executor (job-executor.ts).
   */
  executor?: JobExecutor;
}

export interface GitlabEmulator {
  /** Base URL without /api/v4, e.g. http://127.0.0.1:41234 — what a GitLab client calls its host. */
  url: string;
  /** Personal access token of the seeded admin (scopes api, create_runner, manage_runner). Never log it. */
  adminToken: string;
  projectId: number;
  groupId: number;
  /** Path of the 0600 file holding the admin token, when a stateDir was given. */
  tokenFile?: string;
  /**
   * The control API's secret (control-secret.ts), new at every start: send it as the
   * X-Pifleet-Sim-Control header to /-/sim/…. Never log it.
   */
  controlSecret: string;
  /** Path of the 0600 file holding controlSecret, when a stateDir was given. */
  controlSecretFile?: string;
  /** Resolves when the pipelines that pushes and MR events started have been evaluated and recorded. */
  pipelinesSettled(): Promise<void>;
  /** Resolves when no job runs in the emulator. */
  jobsIdle(): Promise<void>;
  close(): Promise<void>;
}

/** Starts the GitLab REST API emulator (see sim/README.md, "GitLab API emulator"). */
export async function startGitlabEmulator(options: GitlabEmulatorOptions = {}): Promise<GitlabEmulator> {
  const { host = "127.0.0.1", port = 0, stateDir } = options;
  const now = options.now ?? (() => new Date());
  checkListenHost(host);
  const unlock = stateDir ? lockStateDir(stateDir) : () => {};
  let state: SimState;
  try {
    state = stateDir ? loadOrSeedState(stateDir, now()) : seedState(now());
  } catch (err) {
    unlock();
    throw err;
  }
  let url = "";
  // Bare repositories: in the state dir, or (in-memory state) a temporary dir removed on close.
  const repoRoot = stateDir ? join(stateDir, "repositories") : mkdtempSync(join(tmpdir(), "pifleet-gitlab-repos-"));
  const artifactRoot = stateDir ? join(stateDir, "artifacts") : mkdtempSync(join(tmpdir(), "pifleet-gitlab-artifacts-"));
  const dropRepos = stateDir
    ? () => {}
    : () => {
        rmSync(repoRoot, { recursive: true, force: true });
        rmSync(artifactRoot, { recursive: true, force: true });
      };
  const emu: Emulator = {
    repoRoot,
    artifactRoot,
    state,
    now,
    baseUrl: () => url,
    save: stateDir ? () => saveState(stateDir, state) : () => {},
    faults: new FaultQueue(),
    requests: new RequestLog(),
  };
  // Before the routes: they share this engine, which runs jobs through the given executor.
  const engine = ciEngine(emu, options.executor);
  engine.recoverInterrupted();
  // Written before listening, so whoever sees the URL can already read the secret.
  const controlSecret = newControlSecret();
  const controlSecretFile = stateDir ? writeControlSecret(stateDir, controlSecret) : undefined;
  const app = buildApp(emu, controlSecret);
  let server: Server;
  try {
    server = await listen(app, host, port);
  } catch (err) {
    unlock();
    dropRepos();
    throw err;
  }
  const address = server.address() as AddressInfo;
  url = `http://${host.includes(":") ? `[${host}]` : host}:${address.port}`;

  const admin = state.tokens.find((t) => t.user_id === state.users.find((u) => u.is_admin)?.id && !t.revoked);
  const project = state.projects[0];
  if (!admin || !project) throw new Error("GitLab emulator state lacks its seeded admin token or project");
  const tokenFile = stateDir ? writeTokenFile(stateDir, admin.token) : undefined;

  return {
    url,
    adminToken: admin.token,
    projectId: project.id,
    groupId: project.group_id,
    tokenFile,
    controlSecret,
    controlSecretFile,
    pipelinesSettled: () => pipelineTriggersSettled(emu),
    jobsIdle: () => engine.idle(),
    close: async () => {
      await pipelineTriggersSettled(emu);
      await engine.close();
      runnerQueue(emu).releaseAll();
      await new Promise<void>((resolve, reject) => {
        server.close((err) => {
          unlock();
          dropRepos();
          if (err) reject(err);
          else resolve();
        });
        server.closeAllConnections();
      });
    },
  };
}

function listen(app: ReturnType<typeof buildApp>, host: string, port: number): Promise<Server> {
  return new Promise<Server>((resolve, reject) => {
    const s = app.listen(port, host);
    s.once("listening", () => resolve(s));
    s.once("error", (err: NodeJS.ErrnoException) =>
      reject(
        new OperationError(
          `GitLab emulator: cannot listen on ${host}:${port} (${err.code ?? err.message}); pick another port or stop what uses it`,
        ),
      ),
    );
  });
}
