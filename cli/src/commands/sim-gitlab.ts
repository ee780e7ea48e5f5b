import { resolve } from "node:path";
import { InputError } from "@pifleet/fleet";
import { startGitlabEmulator } from "@pifleet/sim";
import type { Command } from "commander";
import { globals } from "../context.js";
import { info, print, printJson } from "../output.js";

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
Stop it with Ctrl-C.

Examples:
  $ pifleet sim gitlab --port 8929
  $ curl -H "PRIVATE-TOKEN: $(cat .pifleet/sim/gitlab/gitlab-token)" http://127.0.0.1:8929/api/v4/user
  $ pifleet sim gitlab --json | jq -r .url`,
    )
    .action(async (opts: { host: string; port: string; state: string }, cmd: Command) => {
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        throw new InputError(`--port: expected an integer 0..65535, got "${opts.port}"`);
      }
      const stateDir = resolve(opts.state);
      const emulator = await startGitlabEmulator({ host: opts.host, port, stateDir });
      if (globals(cmd).json) {
        printJson({
          url: emulator.url,
          tokenFile: emulator.tokenFile,
          token: emulator.adminToken,
          projectId: emulator.projectId,
          groupId: emulator.groupId,
          pid: process.pid,
        });
      } else {
        print(`GitLab emulator listening on ${emulator.url} (API at ${emulator.url}/api/v4)`);
        print(`admin token file: ${emulator.tokenFile}`);
        info("press Ctrl-C to stop");
      }
    });
}
