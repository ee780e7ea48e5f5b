import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { OperationError } from "@pifleet/fleet";
import { RUNNER_USER } from "./ci-runner/shell-plan.js";
import { controlHeaders, readControlSecret } from "./gitlab/control-secret.js";
import type { ProgressFn } from "./image.js";
import type { NodePlan } from "./layout.js";
import { docker } from "./sim-docker.js";

/** sim/runner-standin: gitlab-runner's process behaviour (asks GitLab for jobs, graceful stop); the emulator runs the jobs. */
const STANDIN_DIR = fileURLToPath(new URL("../runner-standin/", import.meta.url));

/** A file the stand-in needs on a node. */
export interface NodeFile {
  path: string;
  content: string;
  mode: "0600" | "0644";
}

/** Where the stand-in's files go on a node (as sim/runner-standin/README.md describes). Pure. */
export function standinFiles(script: string, unit: string, jobsToken: string): NodeFile[] {
  return [
    { path: "/usr/local/lib/pifleet-sim/gitlab-runner-standin.py", content: script, mode: "0644" },
    { path: "/etc/systemd/system/gitlab-runner.service", content: unit, mode: "0644" },
    // A read_api token, so the stand-in can ask which of its runners' jobs are running (graceful stop).
    { path: "/etc/gitlab-runner-standin/jobs-token", content: jobsToken, mode: "0600" },
  ];
}

/**
 * The user gitlab-runner's Debian package creates in its postinst (and runs shell-executor jobs as,
 * with its home as the service's --working-directory): the same useradd, so a shell job meets on a
 * sim node what it meets on a Pi. Idempotent, as the postinst is. Pure.
 */
export const RUNNER_USER_SCRIPT = `id -u ${RUNNER_USER} >/dev/null 2>&1 || useradd --comment 'GitLab Runner' --create-home ${RUNNER_USER} --shell /bin/bash`;

/** Where the emulator answers, and the file holding its control secret (only this machine's sim owner reads it). */
export interface EmulatorControl {
  url: string;
  controlSecretFile: string;
}

/** Mints the stand-in's read-only token on the emulator's control API. */
async function mintJobsToken(gitlab: EmulatorControl): Promise<string> {
  const url = `${gitlab.url}/-/sim/tokens`;
  const res = await fetch(url, {
    method: "POST",
    headers: { ...controlHeaders(readControlSecret(gitlab.controlSecretFile)), "content-type": "application/json" },
    body: JSON.stringify({ scopes: ["read_api"], name: "runner-standin" }),
  }).catch((err: unknown) => {
    throw new OperationError(`could not reach the GitLab emulator at ${url}: ${String(err)}`, "Check `pifleet sim status`.");
  });
  if (res.status !== 201) throw new OperationError(`the GitLab emulator refused the runner stand-in's token (${url}: HTTP ${res.status})`);
  return ((await res.json()) as { token: string }).token;
}

/** Writes a file as root through the container's own engine: the token travels on stdin, never in arguments. */
async function writeNodeFile(node: NodePlan, file: NodeFile): Promise<void> {
  const script = 'umask 077 && mkdir -p "$(dirname "$1")" && cat > "$1" && chmod "$2" "$1"';
  await docker(["exec", "-i", node.container, "sh", "-c", script, "sh", file.path, file.mode], { input: file.content });
}

/**
 * Installs sim/runner-standin as gitlab-runner.service on every node and starts it, so the runners
 * `pifleet runners apply` registers ask for jobs (online in GitLab); the emulator runs the jobs they
 * take (shell-executor jobs as the gitlab-runner user it creates, as the package would).
 */
export async function installRunnerStandin(nodes: readonly NodePlan[], gitlab: EmulatorControl, progress: ProgressFn): Promise<void> {
  progress("installing the runner stand-in (asks the emulator for jobs, which the emulator runs) as gitlab-runner.service");
  const [script, unit, jobsToken] = await Promise.all([
    readFile(`${STANDIN_DIR}gitlab-runner-standin.py`, "utf8"),
    readFile(`${STANDIN_DIR}gitlab-runner.service`, "utf8"),
    mintJobsToken(gitlab),
  ]);
  const files = standinFiles(script, unit, jobsToken);
  await Promise.all(
    nodes.map(async (node) => {
      await docker(["exec", node.container, "sh", "-c", RUNNER_USER_SCRIPT]);
      for (const file of files) await writeNodeFile(node, file);
      await docker(["exec", node.container, "systemctl", "daemon-reload"]);
      await docker(["exec", node.container, "systemctl", "enable", "--now", "gitlab-runner"]);
    }),
  );
}
