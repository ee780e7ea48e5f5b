import { EnvironmentError, type Fleet, InputError, OperationError } from "@pifleet/fleet";
import { type RunnerContext, runnerContext } from "./context.js";
import { runnerScope } from "./desired.js";
import { createGitlabClient } from "./gitbeaker-client.js";
import { NodeError } from "./node-access.js";
import { GitlabHttpError, GitlabNetworkError, type RetryPolicy } from "./retry.js";
import { Secret } from "./secret.js";
import { SshNodeAccess } from "./ssh-node-access.js";

/** The CLI's way in: a RunnerContext talking to the real GitLab (token from the environment) and the real nodes (SSH). */

export const SCOPES_HINT =
  "The token needs the scopes create_runner and manage_runner (or api), and Maintainer/Owner rights where the runners live. See docs/runners.md.";

export interface ConnectOptions {
  env?: NodeJS.ProcessEnv;
  progress?: (message: string) => void;
  retry?: RetryPolicy;
}

export function connectRunners(fleet: Fleet, options: ConnectOptions = {}): RunnerContext & { close(): Promise<void> } {
  const env = options.env ?? process.env;
  const name = fleet.gitlab.tokenEnv;
  const value = env[name];
  if (!value)
    throw new EnvironmentError(`${name} is not set: runner commands need a GitLab API token`, `export ${name}=… first. ${SCOPES_HINT}`);
  const scope = runnerScope(fleet);
  if (scope.type !== "instance_type" && scope.id === undefined) {
    throw new InputError(
      `gitlab.runnerScope.id is required for ${fleet.gitlab.runnerScope.type} runners`,
      "Set the group or project id in fleet.yaml.",
    );
  }
  const api = createGitlabClient({
    url: fleet.gitlab.url,
    token: new Secret(value),
    scope,
    ...(options.retry ? { retry: options.retry } : {}),
    hooks: {
      onRetry: (err, attempt, delay) => options.progress?.(`${err.message}; retry ${attempt} in ${(delay / 1000).toFixed(1)}s`),
    },
  });
  const nodes = new SshNodeAccess(fleet);
  return { ...runnerContext(fleet, api, nodes, options.progress), close: () => nodes.close() };
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
