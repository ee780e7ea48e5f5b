/** What runner-manager does on a node. The real implementation is SSH (ssh-node-access.ts); tests may use an in-memory one. */

export interface NodeState {
  /** /etc/gitlab-runner/config.toml, or null when it does not exist. */
  configText: string | null;
  /** Runner ids whose token reset started and whose config write has not finished. */
  pendingRotation: number[];
  /** gitlab-runner's system_id (its .runner_system_id beside config.toml), when it has made one. */
  systemId?: string;
  /** Whether gitlab-runner runs (systemctl is-active); absent when not known. */
  runnerActive?: boolean;
}

export interface NodeAccess {
  read(node: string): Promise<NodeState>;
  /** Atomic (temp file + rename), mode 0600, owner root; also clears the pending-rotation record. */
  writeConfig(node: string, text: string): Promise<void>;
  /** Records, before a token reset, that the node's token for these runners is about to change. */
  markPendingRotation(node: string, runnerIds: number[]): Promise<void>;
  /** Tells a running gitlab-runner to reread its config; `restart` for keys it only reads at start (listen_address). */
  reload(node: string, restart: boolean): Promise<void>;
  /**
   * Has the node restart a running gitlab-runner `afterSec` from now, on its own (a systemd timer): for the node
   * whose runner runs this job, which a restart now would wait on (restart.ts). A restart already pending stays the one.
   */
  restartLater(node: string, afterSec: number): Promise<void>;
  /** Stops gitlab-runner with SIGQUIT (the unit's KillSignal), so it finishes running jobs first. */
  stopRunner(node: string): Promise<void>;
  startRunner(node: string): Promise<void>;
  runnerActive(node: string): Promise<boolean>;
  close(): Promise<void>;
}

/** A node that cannot be reached or refused a command. The message never contains file contents. */
export class NodeError extends Error {
  constructor(
    readonly node: string,
    readonly reason: string,
  ) {
    super(`${node}: ${reason}`);
    this.name = "NodeError";
  }
}
