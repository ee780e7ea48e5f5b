import { type ChildProcess, spawn } from "node:child_process";
import { access } from "node:fs/promises";
import { join } from "node:path";
import { type SshSettings, type SshTarget, sleep, sshArgs } from "@pifleet/io";

/**
 * A node's Docker engine as a local socket: `ssh -N -L SOCK:/var/run/docker.sock`
 * with the fleet's key and pinned host keys. `DOCKER_HOST=unix://SOCK` then
 * drives that engine as a pipeline job drives its node's engine through the
 * mounted socket (the SSH user is in the docker group: the docker role).
 */
export async function forwardDockerSocket(
  ssh: SshSettings,
  node: SshTarget,
  dir: string,
): Promise<{ dockerHost: string; stop: () => Promise<void> }> {
  const socket = join(dir, `docker-${node.name}.sock`);
  const child: ChildProcess = spawn(
    "ssh",
    ["-N", "-o", "ExitOnForwardFailure=yes", "-L", `${socket}:/var/run/docker.sock`, ...sshArgs(ssh, node)],
    {
      stdio: ["ignore", "ignore", "inherit"],
    },
  );
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
  };
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`ssh forwarding ${node.name}'s Docker socket exited (${child.exitCode})`);
    if (
      await access(socket).then(
        () => true,
        () => false,
      )
    )
      return { dockerHost: `unix://${socket}`, stop };
    await sleep(100);
  }
  await stop();
  throw new Error(`ssh did not forward ${node.name}'s Docker socket within 10 s`);
}
