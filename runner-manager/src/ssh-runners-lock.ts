import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { OperationError } from "@pifleet/fleet";
import { remoteScript, type SshSettings, type SshTarget, scrubTokens, sshArgs } from "@pifleet/io";
import { type LockHolder, lockScript, lockTimeoutError, parseLockLine, renderHolder, waitingMessage } from "./runners-lock.js";

/**
 * The runners lock's session (runners-lock.ts says why it is built this way): ssh to the lock node runs
 * lockScript as root with stdin kept open. Resolves once the script says `locked`; the release closes stdin.
 * Its own connection (no ControlMaster): the lock lives exactly as long as this one ssh process.
 */

export interface LockRequest {
  holder: LockHolder;
  timeoutSec: number;
  /** Told once, when someone else holds the lock and this run starts to wait. */
  onWait?: (message: string) => void;
  /** Told if the session ends while the lock is held (the connection dropped): the lock is gone. */
  onLost?: (message: string) => void;
  now?: () => Date;
}

export interface HeldLock {
  release(): Promise<void>;
}

/** Where the lock is taken: the node's name for messages, and the command that runs the lock script there. */
export interface LockSite {
  node: string;
  login: string;
  command: readonly [program: string, args: readonly string[]];
}

/** The lock on a fleet node: ssh (pinned host key, the fleet's key) running the lock script through sudo. */
export function sshLockSite(ssh: SshSettings, node: SshTarget, timeoutSec: number): LockSite {
  const args = [...sshArgs(ssh, node), remoteScript(lockScript(timeoutSec), true, ssh.user)];
  return { node: node.name, login: `${ssh.user}@${node.address}`, command: ["ssh", args] };
}

export function takeRunnersLock(site: LockSite, request: LockRequest): Promise<HeldLock> {
  const now = request.now ?? (() => new Date());
  const [program, args] = site.command;
  const child = spawn(program, args, { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr = (stderr + chunk).slice(-2000);
  });
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  child.stdin.on("error", () => {
    // The session ended before we wrote or closed stdin: the close handler reports it.
  });
  child.stdin.write(`${renderHolder(request.holder)}\n`);

  return new Promise<HeldLock>((resolve, reject) => {
    let locked = false;
    let releasing = false;
    createInterface({ input: child.stdout }).on("line", (line) => {
      const event = parseLockLine(line);
      if (event?.kind === "waiting") request.onWait?.(waitingMessage(site.node, event.holder, request.timeoutSec, now()));
      else if (event?.kind === "timeout") reject(lockTimeoutError(site.node, event.holder, request.timeoutSec, now()));
      else if (event?.kind === "locked") {
        locked = true;
        resolve({
          async release() {
            releasing = true;
            child.stdin.end();
            await exited;
          },
        });
      }
    });
    child.on("error", (err) =>
      reject(new OperationError(`cannot run ${program} to take the runners lock on ${site.node}: ${err.message}`)),
    );
    void exited.then((code) => {
      const said = scrubTokens(stderr.trim()).slice(-300);
      if (!locked) {
        // A timeout has rejected already; this covers ssh failing to connect, sudo refusing, flock missing.
        reject(
          new OperationError(
            `could not take the runners lock on ${site.node} (${site.login}, exit ${code ?? "by a signal"})${said ? `: ${said}` : ""}`,
            `Runner changes take a lock on ${site.node}, the primary Swarm manager, so that two runs never change runners at once. ` +
              `Check that ${site.node} is up and reachable over SSH with passwordless sudo, then rerun.`,
          ),
        );
      } else if (!releasing) {
        request.onLost?.(`warning: the runners lock on ${site.node} was lost (its session ended${said ? `: ${said}` : ""})`);
      }
    });
  });
}
