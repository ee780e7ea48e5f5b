import { EnvironmentError } from "@pifleet/fleet";
import { type GitlabTransport, gitlabTransport, Secret } from "@pifleet/io";
import { readControlSecret } from "../gitlab/control-secret.js";
import { readState } from "../state.js";
import { type SimStatus, statusOf } from "../status.js";

/** The sim's GitLab emulator as a client sees it: where it answers, as whom, and the sim it belongs to. */
export interface SimGitlabTarget {
  status: SimStatus;
  url: string;
  projectId: number;
  /** The emulator's admin token (a Secret: never printed). */
  adminToken: Secret;
  /** The emulator's control-API secret, read from its 0600 file (a Secret: never printed). */
  controlSecret: Secret;
  api: GitlabTransport;
}

/**
 * The running emulator of the sim in `dir`. No sim there, a sim without the emulator, or an emulator
 * that is not running is an environment problem (exit 3) with the command that fixes it.
 */
export async function simGitlabTarget(dir: string): Promise<SimGitlabTarget> {
  const state = await readState(dir);
  if (!state) {
    throw new EnvironmentError(
      `no simulated fleet in ${dir}`,
      `Start one with \`pifleet sim up --dir ${dir}\` (or pass the --dir it was started with).`,
    );
  }
  const status = await statusOf(state);
  const gitlab = status.gitlab;
  if (!gitlab) {
    throw new EnvironmentError(
      `the sim in ${dir} has no GitLab emulator (it was started with --no-gitlab)`,
      `Recreate it with the emulator: \`pifleet sim down --dir ${dir}\`, then \`pifleet sim up --dir ${dir}\`.`,
    );
  }
  if (!gitlab.running) {
    throw new EnvironmentError(
      `the sim's GitLab emulator (${gitlab.url}) is not running`,
      `Run \`pifleet sim up --dir ${dir}\`: it restarts it.`,
    );
  }
  const adminToken = new Secret(gitlab.token);
  return {
    status,
    url: gitlab.url,
    projectId: gitlab.projectId,
    adminToken,
    controlSecret: new Secret(readControlSecret(gitlab.controlSecretFile)),
    api: gitlabTransport({ url: gitlab.url, auth: { header: "PRIVATE-TOKEN", token: adminToken } }),
  };
}
