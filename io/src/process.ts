import { spawn } from "node:child_process";
import type { Readable } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import { EnvironmentError, OperationError } from "@pifleet/fleet";
import { shellQuote } from "./quote.js";
import { Secret, scrubTokens } from "./secret.js";

export interface ExecResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface ExecOptions {
  /** Written to stdin, then closed. Secrets go here, never into argv (argv is visible in ps). */
  input?: string | Buffer | Secret;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** A non-zero exit is returned instead of thrown. */
  allowFailure?: boolean;
  /** Every stdout/stderr chunk as it arrives, for commands whose progress matters. */
  onOutput?: (chunk: string) => void;
  /** Every stdout chunk as it arrives, apart from stderr: for programs that report on stdout, e.g. with `eachLine`. */
  onStdout?: (chunk: string) => void;
  /** Every stderr chunk as it arrives, apart from stdout. */
  onStderr?: (chunk: string) => void;
  /** Names the command in errors instead of its arguments (keeps long scripts and file contents out). */
  describe?: string;
  /** The command is killed after this long, and that is an error even with allowFailure. */
  timeoutMs?: number;
  /** Aborting kills the command (SIGTERM); that is an error even with allowFailure. */
  signal?: AbortSignal;
}

/** A program and its arguments, run without a shell parsing anything of ours. */
export type Command = readonly [program: string, args: readonly string[]];

export interface ProcessRunner {
  run(program: string, args: readonly string[], options?: ExecOptions): Promise<ExecResult>;
  /** `from | to`: from's stdout streams into to's stdin; both must succeed. Resolves with to's output. */
  pipe(from: Command, to: Command, options?: ExecOptions): Promise<ExecResult>;
}

/**
 * zx is loaded on the first command, not on import: it costs ~90 ms (its full entry
 * point ~290 ms), and most pifleet commands that import this package never run one.
 */
let zxCore: Promise<typeof import("zx/core")> | undefined;
const loadZx = () => {
  zxCore ??= import("zx/core");
  return zxCore;
};

const SETUP_HINT = "Run scripts/setup (as root) to install what pifleet needs.";

/** Lines of a failing command's stderr shown in its error: enough to see why, not a whole log. */
const TAIL_LINES = 15;

/** The first few arguments: enough to recognise the command, without dumping file contents into an error. */
function describeCommand(program: string, args: readonly string[]): string {
  const shown = [program, ...args.slice(0, 4)].join(" ");
  return args.length > 4 ? `${shown} …` : shown;
}

function secretsOf(options: ExecOptions): Secret[] {
  return options.input instanceof Secret ? [options.input] : [];
}

/** The end of what a failed command said (stderr, else stdout), with tokens scrubbed. */
function outputTail(stderr: string, stdout: string, known: readonly Secret[]): string {
  const said = stderr.trim() || stdout.trim();
  return scrubTokens(said.split("\n").slice(-TAIL_LINES).join("\n"), known);
}

/** "<what> failed (exit N): <tail>": the shape of every failed-command error in pifleet. */
export function commandFailure(what: string, code: number, stderr: string, stdout: string, known: readonly Secret[] = []): OperationError {
  const tail = outputTail(stderr, stdout, known);
  return new OperationError(`${what} failed (exit ${code})${tail ? `: ${tail}` : ""}`);
}

function notInstalled(program: string): EnvironmentError {
  return new EnvironmentError(`${program} is not installed`, SETUP_HINT);
}

/** True when `program` cannot be found on the PATH the child would have searched. */
async function missingFromPath(program: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  const { which } = await loadZx();
  return which.sync(program, { nothrow: true, path: env.PATH ?? "" }) === null;
}

function timedOut(what: string, ms: number): OperationError {
  return new OperationError(
    `${what} timed out after ${Math.round(ms / 100) / 10} s`,
    "It was stopped; check the target is responsive, then run again.",
  );
}

function aborted(what: string): OperationError {
  return new OperationError(`${what} was stopped: its run was aborted`);
}

function stdinOf(input: ExecOptions["input"]): string | Buffer {
  if (input instanceof Secret) return input.reveal();
  return input ?? "";
}

/** Calls onOutput with text, never splitting a multi-byte character across chunks. */
function forwardText(stream: Readable, onOutput: (chunk: string) => void): void {
  const decoder = new StringDecoder("utf8");
  stream.on("data", (data: Buffer | string) => {
    const text = typeof data === "string" ? data : decoder.write(data);
    if (text) onOutput(text);
  });
  stream.on("end", () => {
    const rest = decoder.end();
    if (rest) onOutput(rest);
  });
}

/**
 * One command through zx: `exec program args…` in /bin/sh, every word quoted by
 * our POSIX shellQuote, so the shell only replaces itself with the program.
 */
async function runWithZx(program: string, args: readonly string[], options: ExecOptions): Promise<ExecResult> {
  const env = options.env ?? process.env;
  const what = options.describe ?? describeCommand(program, args);
  const stdin = stdinOf(options.input);
  const { $ } = await loadZx();
  const shell = $({
    shell: "/bin/sh",
    prefix: "",
    postfix: "",
    quote: shellQuote,
    cwd: options.cwd,
    env,
    ...(stdin.length > 0 ? { input: stdin } : {}),
    nothrow: true,
    quiet: true,
    verbose: false,
    ...(options.timeoutMs !== undefined ? { timeout: options.timeoutMs, timeoutSignal: "SIGKILL" as const } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const running = shell`exec ${program} ${[...args]}`;
  // zx leaves stdin open when there is no input; a program that reads it would wait forever.
  if (stdin.length === 0) running.stdin.end();
  // A program may exit without reading all its input: its exit code says how it went, and the
  // EPIPE of zx's write must not crash this process.
  else running.stdin.on("error", () => {});
  if (options.onOutput) {
    forwardText(running.stdout, options.onOutput);
    forwardText(running.stderr, options.onOutput);
  }
  if (options.onStdout) forwardText(running.stdout, options.onStdout);
  if (options.onStderr) forwardText(running.stderr, options.onStderr);
  const output = await running;
  if (output.exitCode === null && options.signal?.aborted) throw aborted(what);
  const startError = output.cause;
  if (startError) {
    throw new OperationError(
      `${what} could not start: ${startError.message}`,
      options.cwd ? `Check that ${options.cwd} exists.` : undefined,
    );
  }
  if (output.exitCode === null) {
    if (options.timeoutMs !== undefined) throw timedOut(what, options.timeoutMs);
    throw new OperationError(`${what} was killed by ${output.signal ?? "a signal"}`);
  }
  const result = { stdout: output.stdout, stderr: output.stderr, code: output.exitCode };
  // 127 is also what a program says for a command *it* could not find (ssh passes the remote's on),
  // so only a program absent from our PATH is "not installed".
  if (result.code === 127 && (await missingFromPath(program, env))) throw notInstalled(program);
  if (result.code !== 0 && !options.allowFailure) throw commandFailure(what, result.code, result.stderr, result.stdout, secretsOf(options));
  return result;
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/**
 * `from | to` on node:child_process, not zx: measured with zx 8.8, its pipe()
 * keeps all of from's stdout in memory (+311 MB for a 300 MB stream, i.e. a whole
 * `docker save`), with a discarding store it dropped the last 64 KiB, and a
 * consumer that exits early crashed the process with an unhandled EPIPE.
 */
function pipeWithChildProcess(from: Command, to: Command, options: ExecOptions): Promise<ExecResult> {
  const env = options.env ?? process.env;
  const what = options.describe ?? `${describeCommand(...from)} | ${describeCommand(...to)}`;
  return new Promise((resolve, reject) => {
    const spawnOptions = { cwd: options.cwd, env, stdio: ["pipe", "pipe", "pipe"] as ["pipe", "pipe", "pipe"], signal: options.signal };
    const left = spawn(from[0], [...from[1]], spawnOptions);
    const right = spawn(to[0], [...to[1]], spawnOptions);
    let failedToStart: Error | undefined;
    const exits = [left, right].map(
      (child, i) =>
        new Promise<Exit>((done) => {
          let stderr = "";
          child.stderr.setEncoding("utf8").on("data", (d: string) => {
            stderr += d;
          });
          child.on("error", (err: NodeJS.ErrnoException) => {
            const program = (i === 0 ? from : to)[0];
            failedToStart ??= err.code === "ENOENT" ? notInstalled(program) : err;
            done({ code: null, signal: null, stderr });
          });
          child.on("close", (code, signal) => done({ code, signal, stderr }));
        }),
    );
    // A consumer that stops reading early ends the pipe; its exit code says why, not EPIPE. Closing
    // our read end then gives the producer SIGPIPE, as in a shell, instead of blocking it forever.
    right.on("close", () => left.stdout.destroy());
    right.on("error", () => left.stdout.destroy());
    right.stdin.on("error", () => {});
    left.stdout.on("error", () => {});
    left.stdin.on("error", () => {});
    left.stdout.pipe(right.stdin);
    left.stdin.end(stdinOf(options.input));
    let stdout = "";
    right.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
      options.onOutput?.(d);
      options.onStdout?.(d);
    });
    for (const child of [left, right]) {
      child.stderr.on("data", (d: string) => {
        options.onOutput?.(d);
        options.onStderr?.(d);
      });
    }
    let timer: NodeJS.Timeout | undefined;
    let expired = false;
    if (options.timeoutMs !== undefined) {
      timer = setTimeout(() => {
        expired = true;
        left.kill("SIGKILL");
        right.kill("SIGKILL");
      }, options.timeoutMs);
    }
    void Promise.all(exits).then(([l, r]) => {
      clearTimeout(timer);
      if (options.signal?.aborted && (l?.code === null || r?.code === null)) return reject(aborted(what));
      if (failedToStart) return reject(failedToStart);
      if (expired && options.timeoutMs !== undefined) return reject(timedOut(what, options.timeoutMs));
      const sides = [
        { exit: l as Exit, command: from, stdout: "" },
        { exit: r as Exit, command: to, stdout },
      ];
      // Name every side that failed: a failed producer often makes the consumer fail too, and the
      // first cause is what a person needs.
      const failed = sides.filter((s) => s.exit.code !== 0);
      if (failed.length === 0 || options.allowFailure) {
        return resolve({ stdout, stderr: sides.map((s) => s.exit.stderr).join(""), code: failed[0]?.exit.code ?? 0 });
      }
      const known = secretsOf(options);
      const reasons = failed.map((s) => {
        const status = s.exit.code === null ? `killed by ${s.exit.signal ?? "a signal"}` : `exit ${s.exit.code}`;
        const tail = outputTail(s.exit.stderr, s.stdout, known);
        return `${s.command[0]} (${status})${tail ? `: ${tail}` : ""}`;
      });
      reject(new OperationError(`${what} failed: ${reasons.join("; ")}`));
    });
  });
}

/** The real runner: programs on this machine. */
export const processRunner: ProcessRunner = {
  run: (program, args, options = {}) => runWithZx(program, args, options),
  pipe: (from, to, options = {}) => pipeWithChildProcess(from, to, options),
};

/**
 * Runs a program (no shell interprets its arguments) and collects its output.
 * Missing program → EnvironmentError (exit 3); non-zero exit → OperationError naming the command.
 */
export function run(program: string, args: readonly string[], options?: ExecOptions): Promise<ExecResult> {
  return processRunner.run(program, args, options);
}

/** An output callback that splits chunks into lines; flush() reports a last line that had no newline. */
export interface LineSplitter {
  (chunk: string): void;
  flush(): void;
}

/** An onStdout/onOutput callback that calls report for every line as it completes (without its \n or \r\n). */
export function eachLine(report: (line: string) => void): LineSplitter {
  let partial = "";
  const split = (chunk: string) => {
    const lines = (partial + chunk).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) report(line.endsWith("\r") ? line.slice(0, -1) : line);
  };
  return Object.assign(split, {
    flush() {
      if (partial) split("\n");
    },
  });
}

/** An onOutput callback that calls report for every complete line (trimmed) matching pattern. */
export function linesMatching(pattern: RegExp, report: (match: RegExpExecArray) => void): LineSplitter {
  return eachLine((line) => {
    const m = pattern.exec(line.trim());
    if (m) report(m);
  });
}
