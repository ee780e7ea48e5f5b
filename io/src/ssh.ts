import { mkdtempSync, rmSync } from "node:fs";
import { access } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EnvironmentError, InputError, OperationError, PifleetError } from "@pifleet/fleet";
import { knownKeysFor, type Revocation, readKnownHosts, revokedKeysFor } from "./known-hosts.js";
import { type Command, type ExecOptions, type ExecResult, type ProcessRunner, processRunner } from "./process.js";
import { shellJoin, shellQuote } from "./quote.js";
import { Secret, scrubTokens } from "./secret.js";

/** How pifleet logs in to every node (= Fleet["ssh"]). */
export interface SshSettings {
  user: string;
  port: number;
  privateKey: string;
  knownHosts: string;
}

/** The part of a FleetNode that SSH needs. */
export interface SshTarget {
  name: string;
  address: string;
}

export interface ShellOptions extends Omit<ExecOptions, "cwd" | "env"> {
  /** Run as root: through `sudo -n` unless the SSH user already is root. */
  root?: boolean;
}

/** Commands on fleet nodes. Every failure is a NodeCommandError naming the node and the action. */
export interface NodeShell {
  /** Runs argv on the node (each word quoted with shellQuote). */
  run(node: SshTarget, argv: readonly string[], options?: ShellOptions): Promise<ExecResult>;
  /** Runs a POSIX sh script on the node. */
  script(node: SshTarget, script: string, options?: ShellOptions): Promise<ExecResult>;
  /** Streams a local command's stdout into argv on the node (e.g. `docker save | ssh node docker load`). */
  pipeTo(node: SshTarget, local: Command, argv: readonly string[], options?: ShellOptions): Promise<ExecResult>;
  /** Ends the shared connections. */
  close(): Promise<void>;
}

/** A command on a node failed: which node, doing what, and what it said. */
export class NodeCommandError extends OperationError {
  constructor(
    readonly node: string,
    readonly action: string,
    message: string,
    hint?: string,
  ) {
    super(message, hint);
    this.name = "NodeCommandError";
  }
}

/** OpenSSH's own exit status for "could not connect or authenticate" (a remote command's own 255 is rare). */
const SSH_CONNECTION_FAILED = 255;
/** What OpenSSH (sshconnect.c) prints when the offered host key is @revoked in known_hosts. */
const REVOKED_HOST_KEY = /host key for \S+ (is marked as revoked|was revoked)/;

const DEFAULT_CONNECT_TIMEOUT_SEC = 10;

/** How long an idle shared connection stays open after its last command. */
const CONTROL_PERSIST_SEC = 60;

function loginOptions(settings: SshSettings, connectTimeoutSec: number): string[] {
  return [
    "-i",
    settings.privateKey,
    "-o",
    "IdentitiesOnly=yes",
    "-o",
    "StrictHostKeyChecking=yes",
    "-o",
    // Quoted: ssh splits an unquoted value at spaces into several files (fleet.yaml allows no quote in a path).
    `UserKnownHostsFile="${settings.knownHosts}"`,
    "-o",
    "BatchMode=yes",
    "-o",
    `ConnectTimeout=${connectTimeoutSec}`,
    "-o",
    "LogLevel=ERROR",
    "-p",
    String(settings.port),
  ];
}

/** `-- user@address`: after `--` nothing fleet.yaml gives can be read as an ssh option (say a user "-oProxyCommand=…"). */
const destination = (settings: SshSettings, address: string) => ["--", `${settings.user}@${address}`];

/** OpenSSH arguments for a node, up to and including `-- user@address`: the fleet key, and only the pinned host key is accepted. */
export function sshArgs(settings: SshSettings, node: SshTarget): string[] {
  return [...loginOptions(settings, DEFAULT_CONNECT_TIMEOUT_SEC), ...destination(settings, node.address)];
}

/** The remote command line for a script: `sh -c`, through `sudo -n` when root is asked and the login is not root already. */
export function remoteScript(script: string, root: boolean, user: string): string {
  return `${root && user !== "root" ? "sudo -n " : ""}sh -c ${shellQuote(script)}`;
}

/** The remote command line for argv, each word quoted; as a root script when the login is not root already. */
export function remoteArgv(argv: readonly string[], root: boolean, user: string): string {
  return root && user !== "root" ? remoteScript(shellJoin(argv), true, user) : shellJoin(argv);
}

/** What an action is called in errors: the caller's words, else the first words of the command. */
function actionName(options: ShellOptions, fallback: string): string {
  return options.describe ?? fallback;
}

function firstWords(argv: readonly string[]): string {
  return argv.length > 3 ? `${argv.slice(0, 3).join(" ")} …` : argv.join(" ");
}

function firstLine(script: string): string {
  const line = script.trim().split("\n")[0] ?? "";
  return `script: ${line.length > 60 ? `${line.slice(0, 60)}…` : line}`;
}

/**
 * The node-shell error for a finished ssh command: a connection failure says how to
 * reach the node, anything else quotes the end of the command's stderr.
 */
export function nodeFailure(
  settings: SshSettings,
  node: SshTarget,
  action: string,
  result: ExecResult,
  known: readonly Secret[] = [],
  revoked: readonly Revocation[] = [],
): NodeCommandError {
  const said = (result.stderr.trim() || result.stdout.trim()).split("\n").slice(-15).join("\n");
  const tail = scrubTokens(said, known);
  if (result.code === SSH_CONNECTION_FAILED && REVOKED_HOST_KEY.test(said)) {
    const where = revoked.length > 0 ? revoked.map((r) => `${settings.knownHosts}:${r.line}`).join(", ") : settings.knownHosts;
    return new NodeCommandError(
      node.name,
      action,
      `on ${node.name}: cannot ${action}: ${node.address} offered a host key that ${where} marks @revoked; ssh refused it`,
      "A revoked key is never trusted: do not connect. Check the Pi on its console; if it still has that key, give it new host keys and pin those (pifleet bootstrap) after comparing their fingerprints.",
    );
  }
  if (result.code === SSH_CONNECTION_FAILED) {
    return new NodeCommandError(
      node.name,
      action,
      `on ${node.name}: cannot ${action}: SSH to ${settings.user}@${node.address} port ${settings.port} failed${tail ? `: ${tail}` : ""}`,
      `Check that ${node.name} is up and reachable, that its host key in ${settings.knownHosts} is current, and that it accepts ${settings.privateKey}.`,
    );
  }
  return new NodeCommandError(node.name, action, `on ${node.name}: ${action} failed (exit ${result.code})${tail ? `: ${tail}` : ""}`);
}

/** A pifleet error from the local side (ssh missing, timeout) gets the node and action; environment errors stay what they are. */
function onNode(err: unknown, node: SshTarget, action: string): unknown {
  if (err instanceof EnvironmentError || err instanceof NodeCommandError || !(err instanceof PifleetError)) return err;
  return new NodeCommandError(node.name, action, `on ${node.name}: ${err.message}`, err.hint);
}

/**
 * Checks, once per node, what ssh would otherwise report as a bare "Host key
 * verification failed": known_hosts is readable and pins a key for the node that
 * it does not also mark @revoked. Returns the node's @revoked entries, for errors.
 */
async function precheck(settings: SshSettings, node: SshTarget): Promise<Revocation[]> {
  const text = await readKnownHosts(settings.knownHosts);
  const revoked = revokedKeysFor(text, node.address, settings.port);
  if (knownKeysFor(text, node.address, settings.port).length === 0) {
    const hostField = settings.port === 22 ? node.address : `[${node.address}]:${settings.port}`;
    const marked = revoked.map((r) => `${settings.knownHosts}:${r.line}`).join(", ");
    throw new InputError(
      `no host key for ${hostField} (${node.name}) in ${settings.knownHosts}${marked ? ` that is not marked @revoked (${marked})` : ""}`,
      `Pin the node's ${marked ? "new " : ""}key: ssh-keyscan -p ${settings.port} ${node.address} >> ${settings.knownHosts}, after checking its fingerprint on the node (pifleet sim up pins the sim's).`,
    );
  }
  await access(settings.privateKey).catch((err: NodeJS.ErrnoException) => {
    throw new InputError(
      `cannot read the SSH private key ${settings.privateKey}: ${err.code ?? err.message}`,
      "Fix ssh.privateKey in the fleet file, or create the key (scripts/setup makes one).",
    );
  });
  return revoked;
}

/** Socket directories of shells not closed yet; removed when the process exits, should a caller forget close(). */
const openControlDirs = new Set<string>();
let exitCleanupRegistered = false;

function trackControlDir(dir: string): void {
  openControlDirs.add(dir);
  if (exitCleanupRegistered) return;
  exitCleanupRegistered = true;
  process.once("exit", () => {
    for (const d of openControlDirs) rmSync(d, { recursive: true, force: true });
  });
}

/**
 * Nodes over the OpenSSH binary. Commands to one node share one connection
 * (ControlMaster, sockets in a private 0700 directory); close() ends them.
 */
export function sshShell(settings: SshSettings, options: { runner?: ProcessRunner; connectTimeoutSec?: number } = {}): NodeShell {
  const runner = options.runner ?? processRunner;
  const login = loginOptions(settings, options.connectTimeoutSec ?? DEFAULT_CONNECT_TIMEOUT_SEC);
  const checked = new Map<string, Promise<Revocation[]>>();
  const connected = new Set<string>();
  let controlDir: string | undefined;

  function controlOptions(): string[] {
    // mkdtemp makes the directory 0700: nobody else can reach the sockets, which act as logged-in sessions.
    if (!controlDir) {
      controlDir = mkdtempSync(join(tmpdir(), "pifleet-ssh-"));
      trackControlDir(controlDir);
    }
    return ["-o", "ControlMaster=auto", "-o", `ControlPath=${join(controlDir, "%C")}`, "-o", `ControlPersist=${CONTROL_PERSIST_SEC}`];
  }

  async function sshCommand(node: SshTarget, commandLine: string): Promise<Command> {
    let check = checked.get(node.address);
    if (!check) {
      check = precheck(settings, node);
      checked.set(node.address, check);
    }
    await check;
    connected.add(node.address);
    return ["ssh", [...login, ...controlOptions(), ...destination(settings, node.address), commandLine]];
  }

  async function perform(
    node: SshTarget,
    action: string,
    shellOptions: ShellOptions,
    start: (execOptions: ExecOptions) => Promise<ExecResult>,
  ): Promise<ExecResult> {
    const { root: _root, ...execOptions } = shellOptions;
    let result: ExecResult;
    try {
      result = await start({ ...execOptions, describe: `on ${node.name}: ${action}`, allowFailure: true });
    } catch (err) {
      throw onNode(err, node, action);
    }
    if (result.code !== 0 && !shellOptions.allowFailure) {
      const revoked = (await checked.get(node.address)) ?? [];
      throw nodeFailure(settings, node, action, result, shellOptions.input instanceof Secret ? [shellOptions.input] : [], revoked);
    }
    return result;
  }

  return {
    async run(node, argv, shellOptions = {}) {
      const [program, args] = await sshCommand(node, remoteArgv(argv, shellOptions.root === true, settings.user));
      return perform(node, actionName(shellOptions, firstWords(argv)), shellOptions, (o) => runner.run(program, args, o));
    },
    async script(node, script, shellOptions = {}) {
      const [program, args] = await sshCommand(node, remoteScript(script, shellOptions.root === true, settings.user));
      return perform(node, actionName(shellOptions, firstLine(script)), shellOptions, (o) => runner.run(program, args, o));
    },
    async pipeTo(node, local, argv, shellOptions = {}) {
      const remote = await sshCommand(node, remoteArgv(argv, shellOptions.root === true, settings.user));
      const action = actionName(shellOptions, `${local[0]} | ${firstWords(argv)}`);
      return perform(node, action, shellOptions, (o) => runner.pipe(local, remote, o));
    },
    async close() {
      const dir = controlDir;
      if (!dir) return;
      const control = ["-o", `ControlPath=${join(dir, "%C")}`, "-p", String(settings.port)];
      await Promise.all(
        [...connected].map((address) =>
          runner.run("ssh", [...control, "-O", "exit", ...destination(settings, address)], {
            allowFailure: true,
            describe: `close SSH to ${address}`,
          }),
        ),
      );
      connected.clear();
      rmSync(dir, { recursive: true, force: true });
      openControlDirs.delete(dir);
      controlDir = undefined;
    },
  };
}
