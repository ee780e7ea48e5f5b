import { type Command, commandFailure, type ExecOptions, type ExecResult, type ProcessRunner } from "./process.js";
import { Secret } from "./secret.js";
import { type NodeShell, nodeFailure, type ShellOptions, type SshTarget } from "./ssh.js";

/**
 * Recording fakes for pure unit tests of orchestration code: they record every
 * call and answer from a script. Where the real thing can run (Docker, SSH to a
 * sim node, Redis), tests use the real thing instead.
 */

/** One recorded process call. input is what stdin would have received, a secret's value included. */
export interface ExecCall {
  program: string;
  args: readonly string[];
  input?: string;
  cwd?: string;
}

function inputText(input: ExecOptions["input"]): string | undefined {
  if (input === undefined) return undefined;
  if (input instanceof Secret) return input.reveal();
  return typeof input === "string" ? input : input.toString("utf8");
}

function answer(partial: Partial<ExecResult> | undefined): ExecResult {
  return { stdout: "", stderr: "", code: 0, ...partial };
}

/** Hands a scripted answer's output to the streaming callbacks, as the real runner would have. */
function replayOutput(result: ExecResult, options: ExecOptions): void {
  if (result.stdout) {
    options.onOutput?.(result.stdout);
    options.onStdout?.(result.stdout);
  }
  if (result.stderr) options.onStderr?.(result.stderr);
}

/** A ProcessRunner that runs nothing: unscripted calls answer code 0 with empty output; non-zero answers fail as the real one does. */
export function recordingRunner(
  respond: (call: ExecCall) => Partial<ExecResult> | undefined = () => undefined,
): ProcessRunner & { calls: ExecCall[] } {
  const calls: ExecCall[] = [];
  const call = (program: string, args: readonly string[], options: ExecOptions): ExecResult => {
    const input = inputText(options.input);
    const recorded: ExecCall = {
      program,
      args: [...args],
      ...(input !== undefined ? { input } : {}),
      ...(options.cwd ? { cwd: options.cwd } : {}),
    };
    calls.push(recorded);
    const result = answer(respond(recorded));
    replayOutput(result, options);
    return result;
  };
  const settle = (what: string, result: ExecResult, options: ExecOptions): ExecResult => {
    if (result.code !== 0 && !options.allowFailure)
      throw commandFailure(options.describe ?? what, result.code, result.stderr, result.stdout);
    return result;
  };
  return {
    calls,
    async run(program, args, options = {}) {
      return settle(`${program} ${args.join(" ")}`.trim(), call(program, args, options), options);
    },
    async pipe(from: Command, to: Command, options = {}) {
      const left = call(from[0], from[1], options);
      const right = call(to[0], to[1], {});
      const failed = left.code !== 0 ? left : right;
      return settle(`${from[0]} | ${to[0]}`, { ...right, code: failed.code, stderr: failed.stderr }, options);
    },
  };
}

/** One recorded node-shell call: argv for run/pipeTo, script for script; local is pipeTo's local command. */
export interface ShellCall {
  node: string;
  argv?: readonly string[];
  script?: string;
  local?: Command;
  input?: string;
  root: boolean;
}

type ShellAnswer = Partial<ExecResult> | string | undefined;

/**
 * A NodeShell that reaches no node. respond may answer with a result or just
 * stdout; unscripted calls succeed with empty output; a non-zero code fails as
 * a NodeCommandError, like the real shell.
 */
export function recordingShell(
  respond: (call: ShellCall) => ShellAnswer = () => undefined,
): NodeShell & { calls: ShellCall[]; closed: boolean } {
  const calls: ShellCall[] = [];
  const settings = { user: "pi", port: 22, privateKey: "(fake)", knownHosts: "(fake)" };
  const perform = async (node: SshTarget, call: Omit<ShellCall, "node" | "root" | "input">, action: string, options: ShellOptions) => {
    const input = inputText(options.input);
    const recorded: ShellCall = { node: node.name, ...call, root: options.root === true, ...(input !== undefined ? { input } : {}) };
    calls.push(recorded);
    const given = respond(recorded);
    const result = answer(typeof given === "string" ? { stdout: given } : given);
    replayOutput(result, options);
    if (result.code !== 0 && !options.allowFailure) throw nodeFailure(settings, node, options.describe ?? action, result);
    return result;
  };
  const shell = {
    calls,
    closed: false,
    run: (node: SshTarget, argv: readonly string[], options: ShellOptions = {}) =>
      perform(node, { argv: [...argv] }, argv.join(" "), options),
    script: (node: SshTarget, script: string, options: ShellOptions = {}) => perform(node, { script }, "script", options),
    pipeTo: (node: SshTarget, local: Command, argv: readonly string[], options: ShellOptions = {}) =>
      perform(node, { local, argv: [...argv] }, `${local[0]} | ${argv.join(" ")}`, options),
    async close() {
      shell.closed = true;
    },
  };
  return shell;
}
