import type { Fleet } from "@pifleet/fleet";
import { type NodeShell, sshShell } from "@pifleet/io";

/** Test-only root shell on sim nodes, over the same SSH node shell as production (pinned host keys): inspects nodes. */
export class SimShell {
  private readonly shell: NodeShell;

  constructor(private readonly fleet: Fleet) {
    this.shell = sshShell(fleet.ssh);
  }

  /** Runs a command as root; returns stdout, throws (naming the node) on a non-zero exit. */
  async root(node: string, command: string): Promise<string> {
    const target = this.fleet.nodes.find((x) => x.name === node);
    if (!target) throw new Error(`no node ${node} in the sim's fleet`);
    return (await this.shell.script(target, command, { root: true })).stdout;
  }

  async serviceState(node: string): Promise<string> {
    return (await this.root(node, "systemctl is-active gitlab-runner || true")).trim();
  }

  close(): Promise<void> {
    return this.shell.close();
  }
}
