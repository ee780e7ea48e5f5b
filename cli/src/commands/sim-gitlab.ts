import type { Command } from "commander";
import type { GitlabFlags } from "./sim-actions.js";

const actions = () => import("./sim-actions.js");

/** Adds `pifleet sim gitlab`: the GitLab API emulator in the foreground. Called from commands/sim.ts. */
export function addSimGitlabCommand(sim: Command): void {
  sim
    .command("gitlab")
    .description("run the GitLab REST API emulator in the foreground (state survives restarts)")
    .option("--host <host>", "address to listen on (loopback, or a sim network address in 198.18.0.0/15)", "127.0.0.1")
    .option("--port <port>", "port to listen on; 0 picks a free one", "0")
    .option("--state <dir>", "state directory (emulator state and the 0600 admin token file)", ".pifleet/sim/gitlab")
    .addHelpText(
      "after",
      `
The emulator answers the GitLab REST endpoints pifleet uses under /api/v4 (anything else: 501)
and a control API under /-/sim (faults, runner contact, jobs, token minting, request counts).
The admin token is written to <state>/gitlab-token and never printed, except with --json.
The control API answers only requests whose X-Pifleet-Sim-Control header holds the secret the
emulator writes to <state>/control-secret (0600, new at every start; never printed, even with --json).
Stop it with Ctrl-C.

Examples:
  $ pifleet sim gitlab --port 8929
  $ curl -H "PRIVATE-TOKEN: $(cat .pifleet/sim/gitlab/gitlab-token)" http://127.0.0.1:8929/api/v4/user
  $ curl -H "X-Pifleet-Sim-Control: $(cat .pifleet/sim/gitlab/control-secret)" http://127.0.0.1:8929/-/sim/info
  $ pifleet sim gitlab --json | jq -r .url`,
    )
    .action(async (opts: GitlabFlags, cmd: Command) => (await actions()).gitlab(opts, cmd));
}
