import { readFile } from "node:fs/promises";
import type { Fleet, FleetNode } from "@pifleet/fleet";
import { NodeSSH } from "node-ssh";
import { CONFIG_PATH } from "./config-toml.js";
import { isPinned, knownKeysFor } from "./known-hosts.js";
import { type NodeAccess, NodeError, type NodeState } from "./node-access.js";
import { scrubTokens } from "./secret.js";

/**
 * NodeAccess over SSH (node-ssh) with the fleet's key and strict host-key
 * checking against its known_hosts. config.toml travels on stdin, never on a
 * command line, and lands through a temp file and a rename.
 */

const DIR = "/etc/gitlab-runner";
const PENDING = `${DIR}/.pifleet-rotating`;
const MISSING = "<<pifleet:no-config>>";
const SEPARATOR = "<<pifleet:pending>>";

const READ = `if [ -f ${CONFIG_PATH} ]; then cat ${CONFIG_PATH}; else echo '${MISSING}'; fi; echo '${SEPARATOR}'; cat ${PENDING} 2>/dev/null || true`;
const WRITE = [
  "set -e",
  "umask 077",
  `[ -d ${DIR} ] || install -d -m 0700 -o root -g root ${DIR}`,
  `tmp=$(mktemp ${DIR}/.config.toml.XXXXXX)`,
  "trap 'rm -f \"$tmp\"' EXIT",
  'cat > "$tmp"',
  'chown root:root "$tmp"',
  'chmod 0600 "$tmp"',
  `mv -f "$tmp" ${CONFIG_PATH}`,
  `rm -f ${PENDING}`,
].join("; ");

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export class SshNodeAccess implements NodeAccess {
  private readonly connections = new Map<string, Promise<NodeSSH>>();
  private knownHosts?: Promise<string>;

  constructor(private readonly fleet: Fleet) {}

  private node(name: string): FleetNode {
    const n = this.fleet.nodes.find((x) => x.name === name);
    if (!n) throw new NodeError(name, "not in fleet.yaml");
    return n;
  }

  private connect(name: string): Promise<NodeSSH> {
    const existing = this.connections.get(name);
    if (existing) return existing;
    const node = this.node(name);
    const { user, port, privateKey } = this.fleet.ssh;
    this.knownHosts ??= readFile(this.fleet.ssh.knownHosts, "utf8");
    const knownHosts = this.knownHosts;
    const attempt = (async () => {
      const pinned = knownKeysFor(await knownHosts.catch(() => ""), node.address, port);
      if (pinned.length === 0)
        throw new NodeError(name, `no host key for ${node.address} in ${this.fleet.ssh.knownHosts}; add the node's key there first`);
      let rejected = false;
      const ssh = new NodeSSH();
      try {
        await ssh.connect({
          host: node.address,
          port,
          username: user,
          privateKeyPath: privateKey,
          readyTimeout: 10_000,
          hostVerifier: (key: Buffer) => {
            rejected = !isPinned(key, pinned);
            return !rejected;
          },
        });
      } catch (err) {
        const why = rejected
          ? `host key of ${node.address} does not match ${this.fleet.ssh.knownHosts} — refusing to connect`
          : `ssh ${user}@${node.address}:${port}: ${(err as Error).message}`;
        throw new NodeError(name, why);
      }
      ssh.connection?.on("close", () => this.connections.delete(name));
      return ssh;
    })();
    attempt.catch(() => this.connections.delete(name));
    this.connections.set(name, attempt);
    return attempt;
  }

  /** Runs a shell script as root (through sudo -n unless the SSH user is root). */
  private async root(name: string, script: string, stdin?: string): Promise<string> {
    const ssh = await this.connect(name);
    const sudo = this.fleet.ssh.user === "root" ? "" : "sudo -n ";
    const res = await ssh.execCommand(`${sudo}sh -c ${quote(script)}`, stdin === undefined ? {} : { stdin });
    if (res.code !== 0) {
      const err = scrubTokens(res.stderr.trim() || `exit code ${res.code}`).slice(0, 300);
      throw new NodeError(name, err);
    }
    return res.stdout;
  }

  async read(name: string): Promise<NodeState> {
    const out = await this.root(name, READ);
    const at = out.lastIndexOf(SEPARATOR);
    const config = out.slice(0, at);
    const pending = out.slice(at + SEPARATOR.length);
    return {
      configText: config.trim() === MISSING ? null : config,
      pendingRotation: pending
        .split(/\s+/)
        .filter((s) => /^\d+$/.test(s))
        .map(Number),
    };
  }

  async writeConfig(name: string, text: string): Promise<void> {
    await this.root(name, WRITE, text);
  }

  async markPendingRotation(name: string, runnerIds: number[]): Promise<void> {
    const ids = runnerIds.map((id) => String(Math.trunc(id))).join(" ");
    await this.root(name, `set -e; umask 077; [ -d ${DIR} ] || install -d -m 0700 ${DIR}; printf '%s\\n' ${ids} >> ${PENDING}`);
  }

  async reload(name: string, restart: boolean): Promise<void> {
    // gitlab-runner rereads config.toml on change anyway; HUP makes it immediate. A stopped (drained) runner stays stopped.
    const how = restart ? "systemctl try-restart gitlab-runner" : "systemctl kill -s HUP --kill-whom=main gitlab-runner";
    await this.root(name, `if systemctl is-active --quiet gitlab-runner; then ${how}; fi`);
  }

  async stopRunner(name: string): Promise<void> {
    await this.root(name, "systemctl stop gitlab-runner");
  }

  async startRunner(name: string): Promise<void> {
    await this.root(name, "systemctl start gitlab-runner");
  }

  async runnerActive(name: string): Promise<boolean> {
    const out = await this.root(name, "systemctl is-active gitlab-runner || true");
    return out.trim() === "active";
  }

  async close(): Promise<void> {
    const all = [...this.connections.values()];
    this.connections.clear();
    await Promise.all(all.map(async (c) => (await c.catch(() => undefined))?.dispose()));
  }
}
