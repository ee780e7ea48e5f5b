import { type LoadedFleet, OperationError } from "@pifleet/fleet";
import { GitlabHttpError, GitlabNetworkError, gitlabTransport, type RetryPolicy, secretFromEnv } from "@pifleet/io";
import { type RunnerContext, runnerContext } from "./context.js";
import { runnerScope } from "./desired.js";
import { createGitlabClient } from "./gitbeaker-client.js";
import { NodeError } from "./node-access.js";
import { SshNodeAccess } from "./ssh-node-access.js";
import { type LockRequest, sshLockSite, takeRunnersLock } from "./ssh-runners-lock.js";

/** The CLI's way in: a RunnerContext talking to the real GitLab (token from the environment) and the real nodes (SSH). */

export const SCOPES_HINT =
  "The token needs the scopes read_api, create_runner and manage_runner (or api), and Maintainer/Owner rights where the runners live. See docs/runners.md.";

export interface ConnectOptions {
  env?: NodeJS.ProcessEnv;
  progress?: (message: string) => void;
  retry?: RetryPolicy;
}

export function connectRunners(
  { fleet, topology }: Pick<LoadedFleet, "fleet" | "topology">,
  options: ConnectOptions = {},
): RunnerContext & { close(): Promise<void> } {
  const name = fleet.gitlab.tokenEnv;
  const token = secretFromEnv(name, options.env, `export ${name}=… first: runner commands need a GitLab API token. ${SCOPES_HINT}`);
  const transport = gitlabTransport({
    url: fleet.gitlab.url,
    auth: { header: "PRIVATE-TOKEN", token },
    ...(options.retry ? { retry: options.retry } : {}),
    onRetry: (err, attempt, delay) => options.progress?.(`${err.message}; retry ${attempt} in ${(delay / 1000).toFixed(1)}s`),
  });
  const api = createGitlabClient(transport, runnerScope(topology.runnerScope));
  const nodes = new SshNodeAccess(fleet);
  // On the primary Swarm manager: the node every run, a laptop's or a CI job's, can reach over SSH.
  const lock = (request: LockRequest) => takeRunnersLock(sshLockSite(fleet.ssh, topology.primaryManager, request.timeoutSec), request);
  return { ...runnerContext(fleet, api, nodes, options.progress), lock, close: () => nodes.close() };
}

/** GitLab and node failures as errors a person can act on (exit 1), with the scopes hint when access was refused. */
export function explainRunnerError(err: unknown): unknown {
  if (err instanceof GitlabHttpError) {
    const hint =
      err.status === 401 || err.status === 403
        ? SCOPES_HINT
        : "Rerun: every step is idempotent, and a rerun finishes what this one started.";
    return new OperationError(err.message, hint);
  }
  if (err instanceof GitlabNetworkError)
    return new OperationError(err.message, "Check gitlab.url in fleet.yaml and that GitLab answers, then rerun.");
  if (err instanceof NodeError) {
    return new OperationError(
      err.message,
      `Check that ${err.node} is up and reachable over SSH and that gitlab-runner is installed there (\`pifleet configure\` installs it), then rerun.`,
    );
  }
  return err;
}
