import { EnvironmentError, type Fleet, type FleetNode, PifleetError } from "@pifleet/fleet";
import { type ExecResult, type NodeShell, Secret, scrubTokens, sshShell } from "@pifleet/io";
import { CONFIG_PATH } from "./config-toml.js";
import { type NodeAccess, NodeError, type NodeState } from "./node-access.js";

/**
 * NodeAccess over the one SSH node shell (@pifleet/io): the fleet's key,
 * strict host-key checking against its known_hosts, root through sudo.
 * config.toml travels on stdin as a Secret, never on a command line, and
 * lands through a temp file and a rename.
 */

const DIR = "/etc/gitlab-runner";
const PENDING = `${DIR}/.pifleet-rotating`;
const MISSING = "<<pifleet:no-config>>";
const SYSTEM_ID = `${DIR}/.runner_system_id`;
const SEPARATOR = "<<pifleet:pending>>";
const SYSTEM_ID_SEPARATOR = "<<pifleet:system-id>>";
const SERVICE_SEPARATOR = "<<pifleet:service>>";
/** gitlab-runner's system ids: `s_` + 12 hex digits (from machine-id), `r_` + random ones. */
const SYSTEM_ID_SHAPE = /^[rs]_[0-9A-Za-z]{1,64}$/;

const READ = [
  `if [ -f ${CONFIG_PATH} ]; then cat ${CONFIG_PATH}; else echo '${MISSING}'; fi`,
  `echo '${SEPARATOR}'`,
  `if [ -f ${PENDING} ]; then cat ${PENDING}; fi`,
  `echo '${SYSTEM_ID_SEPARATOR}'`,
  `if [ -f ${SYSTEM_ID} ]; then head -c 100 ${SYSTEM_ID}; fi`,
  `echo '${SERVICE_SEPARATOR}'`,
  // is-active exits non-zero for every state but active; its output names the state.
  "systemctl is-active gitlab-runner 2>/dev/null || true",
].join("; ");
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

/** OpenSSH's exit status when it could not connect or log in. */
const SSH_FAILED = 255;

export class SshNodeAccess implements NodeAccess {
  constructor(
    private readonly fleet: Fleet,
    private readonly shell: NodeShell = sshShell(fleet.ssh),
  ) {}

  private node(name: string): FleetNode {
    const n = this.fleet.nodes.find((x) => x.name === name);
    if (!n) throw new NodeError(name, "not in fleet.yaml");
    return n;
  }

  /**
   * Runs a shell script as root. Whatever keeps this node from answering is a NodeError naming it
   * (the run goes on with the other nodes); what no node could get past (ssh missing, known_hosts
   * unreadable) stays an EnvironmentError and stops the run.
   */
  private async root(name: string, action: string, script: string, input?: Secret): Promise<string> {
    const node = this.node(name);
    let res: ExecResult;
    try {
      res = await this.shell.script(node, script, { root: true, allowFailure: true, describe: action, ...(input ? { input } : {}) });
    } catch (err) {
      if (err instanceof EnvironmentError || !(err instanceof PifleetError)) throw err;
      throw new NodeError(name, err.message.replace(`on ${name}: `, ""));
    }
    if (res.code === 0) return res.stdout;
    const said = scrubTokens(res.stderr.trim(), input ? [input] : []).slice(-300);
    const { user, port } = this.fleet.ssh;
    if (res.code === SSH_FAILED) throw new NodeError(name, `ssh ${user}@${node.address}:${port}: ${said || "connection failed"}`);
    throw new NodeError(name, `${action} failed (exit ${res.code})${said ? `: ${said}` : ""}`);
  }

  async read(name: string): Promise<NodeState> {
    const out = await this.root(name, `read ${CONFIG_PATH}`, READ);
    const serviceAt = out.lastIndexOf(SERVICE_SEPARATOR);
    const service = out.slice(serviceAt + SERVICE_SEPARATOR.length).trim();
    const idAt = out.lastIndexOf(SYSTEM_ID_SEPARATOR, serviceAt);
    const systemId = out.slice(idAt + SYSTEM_ID_SEPARATOR.length, serviceAt).trim();
    const at = out.lastIndexOf(SEPARATOR, idAt);
    const config = out.slice(0, at);
    const pending = out.slice(at + SEPARATOR.length, idAt);
    return {
      configText: config.trim() === MISSING ? null : config,
      pendingRotation: pending
        .split(/\s+/)
        .filter((s) => /^\d+$/.test(s))
        .map(Number),
      ...(SYSTEM_ID_SHAPE.test(systemId) ? { systemId } : {}),
      runnerActive: service === "active",
    };
  }

  async writeConfig(name: string, text: string): Promise<void> {
    await this.root(name, `write ${CONFIG_PATH}`, WRITE, new Secret(text));
  }

  async markPendingRotation(name: string, runnerIds: number[]): Promise<void> {
    const ids = runnerIds.map((id) => String(Math.trunc(id))).join(" ");
    await this.root(
      name,
      "record a token rotation",
      `set -e; umask 077; [ -d ${DIR} ] || install -d -m 0700 ${DIR}; printf '%s\\n' ${ids} >> ${PENDING}`,
    );
  }

  async reload(name: string, restart: boolean): Promise<void> {
    // gitlab-runner rereads config.toml on change anyway; HUP makes it immediate. A stopped (drained) runner stays stopped.
    const how = restart ? "systemctl try-restart gitlab-runner" : "systemctl kill -s HUP --kill-whom=main gitlab-runner";
    await this.root(
      name,
      `${restart ? "restart" : "reload"} gitlab-runner`,
      `if systemctl is-active --quiet gitlab-runner; then ${how}; fi`,
    );
  }

  async restartLater(name: string, afterSec: number): Promise<void> {
    // A transient timer of the node's systemd, outside the job's processes: it fires after the job has ended, and
    // try-restart is a graceful stop (jobs running then finish first) that leaves a stopped (drained) runner stopped.
    // --collect: the units go away once done, failed or not, so the next write can set one up again.
    const unit = "pifleet-runner-restart";
    await this.root(
      name,
      "set up a gitlab-runner restart after this job",
      `if systemctl is-active --quiet gitlab-runner && ! systemctl is-active --quiet ${unit}.timer; then systemd-run --quiet --collect --unit=${unit} --on-active=${Math.trunc(afterSec)}s --timer-property=AccuracySec=1s systemctl try-restart gitlab-runner; fi`,
    );
  }

  async stopRunner(name: string): Promise<void> {
    await this.root(name, "stop gitlab-runner", "systemctl stop gitlab-runner");
  }

  async startRunner(name: string): Promise<void> {
    await this.root(name, "start gitlab-runner", "systemctl start gitlab-runner");
  }

  async runnerActive(name: string): Promise<boolean> {
    // is-active exits non-zero for every state but active; its output names the state.
    const out = await this.root(name, "check gitlab-runner", "systemctl is-active gitlab-runner || true");
    return out.trim() === "active";
  }

  async close(): Promise<void> {
    await this.shell.close();
  }
}
