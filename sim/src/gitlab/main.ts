#!/usr/bin/env node
// Runs the GitLab API emulator as its own process (started detached by `pifleet sim up`):
//   node sim/dist/gitlab/main.js --host H --port P --state DIR [--runner-ssh-user U --runner-ssh-key PATH --runner-known-hosts PATH]
// Prints one JSON line {"url", "pid", "projectId", "groupId"} once listening; the admin token goes to DIR/gitlab-token (0600).
// With the three --runner-ssh-* paths it runs the jobs runners take on their nodes (job-executor.ts); without, it assigns none.
import { parseArgs } from "node:util";
import { startGitlabEmulator } from "./index.js";
import { sshJobExecutor } from "./job-executor.js";

const USAGE = "usage: main.js --host H --port P --state DIR [--runner-ssh-user U --runner-ssh-key PATH --runner-known-hosts PATH]";

async function main(): Promise<void> {
  let values: {
    host?: string;
    port?: string;
    state?: string;
    "runner-ssh-user"?: string;
    "runner-ssh-key"?: string;
    "runner-known-hosts"?: string;
  };
  try {
    ({ values } = parseArgs({
      options: {
        host: { type: "string", default: "127.0.0.1" },
        port: { type: "string", default: "0" },
        state: { type: "string" },
        "runner-ssh-user": { type: "string" },
        "runner-ssh-key": { type: "string" },
        "runner-known-hosts": { type: "string" },
      },
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`gitlab emulator: ${(err as Error).message}; ${USAGE}\n`);
    process.exit(2);
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`gitlab emulator: --port must be an integer 0..65535, got "${values.port}"\n`);
    process.exit(2);
  }
  if (!values.state) {
    process.stderr.write("gitlab emulator: --state DIR is required (state and the admin token file live there)\n");
    process.exit(2);
  }
  const user = values["runner-ssh-user"];
  const privateKey = values["runner-ssh-key"];
  const knownHosts = values["runner-known-hosts"];
  const given = [user, privateKey, knownHosts].filter((v) => v !== undefined).length;
  if (given !== 0 && given !== 3) {
    process.stderr.write(`gitlab emulator: --runner-ssh-user, --runner-ssh-key and --runner-known-hosts go together; ${USAGE}\n`);
    process.exit(2);
  }
  const executor =
    user && privateKey && knownHosts ? sshJobExecutor({ ssh: { user, privateKey, knownHosts }, workRoot: values.state }) : undefined;
  const emulator = await startGitlabEmulator({ host: values.host, port, stateDir: values.state, executor });
  process.stdout.write(
    `${JSON.stringify({ url: emulator.url, pid: process.pid, projectId: emulator.projectId, groupId: emulator.groupId })}\n`,
  );
  const stop = () => {
    emulator.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

main().catch((err: unknown) => {
  // pifleet's error classes carry their exit code (3: environment, e.g. the state dir is in use) and a hint.
  const { message, hint, exitCode } = err as { message: string; hint?: string; exitCode?: number };
  // Messages from startGitlabEmulator name the emulator themselves.
  process.stderr.write(`${message}\n${hint ? `${hint}\n` : ""}`);
  process.exit(exitCode ?? 1);
});
