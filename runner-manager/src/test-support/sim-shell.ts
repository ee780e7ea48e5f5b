import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { Fleet } from "@pifleet/fleet";
import { NodeSSH } from "node-ssh";
import { isPinned, knownKeysFor } from "../known-hosts.js";

/** Test-only shell on sim nodes (pinned host keys, as in production): installs the runner stand-in and inspects nodes. */
export class SimShell {
  private readonly conns = new Map<string, NodeSSH>();

  constructor(private readonly fleet: Fleet) {}

  private async conn(node: string): Promise<NodeSSH> {
    const existing = this.conns.get(node);
    if (existing) return existing;
    const n = this.fleet.nodes.find((x) => x.name === node);
    if (!n) throw new Error(`no node ${node}`);
    const pinned = knownKeysFor(await readFile(this.fleet.ssh.knownHosts, "utf8"), n.address, this.fleet.ssh.port);
    const ssh = new NodeSSH();
    await ssh.connect({
      host: n.address,
      port: this.fleet.ssh.port,
      username: this.fleet.ssh.user,
      privateKeyPath: this.fleet.ssh.privateKey,
      hostVerifier: (key: Buffer) => isPinned(key, pinned),
    });
    this.conns.set(node, ssh);
    return ssh;
  }

  /** Runs a command as root; returns stdout, throws on a non-zero exit. */
  async root(node: string, command: string, stdin?: string): Promise<string> {
    const res = await (await this.conn(node)).execCommand(
      `sudo -n sh -c '${command.replace(/'/g, `'\\''`)}'`,
      stdin === undefined ? {} : { stdin },
    );
    if (res.code !== 0) throw new Error(`${node}: ${command}: exit ${res.code}: ${res.stderr}`);
    return res.stdout;
  }

  /** Installs sim/runner-standin as gitlab-runner.service and starts it; jobsToken is a read_api token for its job checks. */
  async installStandin(node: string, jobsToken: string): Promise<void> {
    const dir = fileURLToPath(new URL("../../../sim/runner-standin/", import.meta.url));
    const script = await readFile(`${dir}gitlab-runner-standin.py`, "utf8");
    const unit = await readFile(`${dir}gitlab-runner.service`, "utf8");
    await this.root(node, "mkdir -p /usr/local/lib/pifleet-sim && umask 077 && mkdir -p /etc/gitlab-runner-standin");
    await this.root(node, "cat > /usr/local/lib/pifleet-sim/gitlab-runner-standin.py", script);
    await this.root(node, "cat > /etc/systemd/system/gitlab-runner.service", unit);
    await this.root(node, "umask 077 && cat > /etc/gitlab-runner-standin/jobs-token", jobsToken);
    await this.root(node, "systemctl daemon-reload && systemctl enable --now gitlab-runner");
  }

  async serviceState(node: string): Promise<string> {
    return (await this.root(node, "systemctl is-active gitlab-runner || true")).trim();
  }

  close(): void {
    for (const c of this.conns.values()) c.dispose();
    this.conns.clear();
  }
}
