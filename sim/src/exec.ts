import { spawn } from "node:child_process";
import { EnvironmentError, OperationError } from "@pifleet/fleet";

export interface ExecResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface ExecOptions {
  /** Written to the child's stdin, then closed. */
  input?: string | Buffer;
  /** Working directory of the child. */
  cwd?: string;
  /** Non-zero exit is returned instead of thrown. */
  allowFailure?: boolean;
  /** Called with each chunk of output (stdout and stderr), for long commands whose progress matters. */
  onOutput?: (chunk: string) => void;
  env?: NodeJS.ProcessEnv;
}

/**
 * Runs a program without a shell and collects its output. A missing program is an
 * EnvironmentError (exit 3); a failing one an OperationError naming the command.
 */
export function run(program: string, args: string[], options: ExecOptions = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
      options.onOutput?.(d);
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
      options.onOutput?.(d);
    });
    child.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") {
        reject(new EnvironmentError(`${program} is not installed`, "Run scripts/setup (as root) to install what pifleet needs."));
      } else reject(err);
    });
    child.on("close", (code) => {
      const result = { stdout, stderr, code: code ?? 1 };
      if (result.code !== 0 && !options.allowFailure) {
        const detail = stderr.trim().split("\n").slice(-5).join("\n") || stdout.trim().split("\n").slice(-5).join("\n");
        reject(new OperationError(`${program} ${describeArgs(args)} failed (exit ${result.code}): ${detail}`));
      } else resolve(result);
    });
    child.stdin.on("error", () => {
      // The child may exit before reading its input; its exit code tells what happened.
    });
    child.stdin.end(options.input ?? "");
  });
}

/** The first few arguments, enough to recognise the command in an error without dumping file contents. */
function describeArgs(args: string[]): string {
  const shown = args.slice(0, 4).join(" ");
  return args.length > 4 ? `${shown} …` : shown;
}

/** `docker …` through the CLI on PATH; stdout trimmed. */
export async function docker(args: string[], options: ExecOptions = {}): Promise<string> {
  const r = await run("docker", args, options);
  return r.stdout.trim();
}

/** An onOutput callback that calls report for every complete line (trimmed) matching pattern. */
export function linesMatching(pattern: RegExp, report: (match: RegExpExecArray) => void): (chunk: string) => void {
  let partial = "";
  return (chunk) => {
    const lines = (partial + chunk).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) {
      const m = pattern.exec(line.trim());
      if (m) report(m);
    }
  };
}
