import { type NodeAccess, NodeError, type NodeState } from "../node-access.js";

/** An in-memory NodeAccess for unit tests: files per node, a service flag, and nodes that can be made unreachable. */
export class MemoryNodes implements NodeAccess {
  readonly files = new Map<string, string>();
  readonly pending = new Map<string, number[]>();
  readonly active = new Map<string, boolean>();
  readonly unreachable = new Set<string>();
  readonly log: string[] = [];

  private check(node: string): void {
    if (this.unreachable.has(node)) throw new NodeError(node, "ssh: connect ECONNREFUSED (node unreachable)");
  }

  async read(node: string): Promise<NodeState> {
    this.check(node);
    return {
      configText: this.files.get(node) ?? null,
      pendingRotation: this.pending.get(node) ?? [],
      runnerActive: this.active.get(node) ?? true,
    };
  }

  async writeConfig(node: string, text: string): Promise<void> {
    this.check(node);
    this.files.set(node, text);
    this.pending.delete(node);
    this.log.push(`write ${node}`);
  }

  async markPendingRotation(node: string, runnerIds: number[]): Promise<void> {
    this.check(node);
    this.pending.set(node, [...new Set([...(this.pending.get(node) ?? []), ...runnerIds])]);
  }

  async reload(node: string, restart: boolean): Promise<void> {
    this.check(node);
    this.log.push(`${restart ? "restart" : "reload"} ${node}`);
  }

  async restartLater(node: string, afterSec: number): Promise<void> {
    this.check(node);
    this.log.push(`restart ${node} in ${afterSec} s`);
  }

  async stopRunner(node: string): Promise<void> {
    this.check(node);
    this.active.set(node, false);
    this.log.push(`stop ${node}`);
  }

  async startRunner(node: string): Promise<void> {
    this.check(node);
    this.active.set(node, true);
    this.log.push(`start ${node}`);
  }

  async runnerActive(node: string): Promise<boolean> {
    this.check(node);
    return this.active.get(node) ?? true;
  }

  async close(): Promise<void> {}
}
