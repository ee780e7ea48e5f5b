import { execFile, spawn } from "node:child_process";
import { promisify } from "node:util";
import { EnvironmentError, OperationError } from "@pifleet/fleet";

export interface RunOptions {
  cwd?: string;
  input?: string;
  env?: NodeJS.ProcessEnv;
  /** Shown instead of the arguments in errors (e.g. to keep a long script out of the message). */
  describe?: string;
}

function failure(program: string, what: string, code: number | null, stderr: string): OperationError {
  const tail = stderr.trim().split("\n").slice(-15).join("\n");
  return new OperationError(`${what} failed (${program} exit ${code ?? "signal"})${tail ? `:\n${tail}` : ""}`);
}

const execFileAsync = promisify(execFile);

/** Runs a program without a shell; resolves with stdout, rejects naming the command and the end of stderr. */
export async function run(program: string, args: string[], options: RunOptions = {}): Promise<string> {
  const pending = execFileAsync(program, args, { cwd: options.cwd, env: options.env ?? process.env, maxBuffer: 256 * 1024 * 1024 });
  pending.child.stdin?.end(options.input);
  try {
    return (await pending).stdout;
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string; code?: number | string };
    if (e.code === "ENOENT") throw new EnvironmentError(`${program} is not installed`, "Run scripts/setup to install what pifleet needs.");
    throw failure(
      program,
      options.describe ?? `${program} ${args.join(" ")}`,
      typeof e.code === "number" ? e.code : null,
      e.stderr ?? e.message,
    );
  }
}

/** `a | b` without a shell: both must succeed. Used for `docker save | ssh node docker load`. */
export function pipe(a: [string, string[]], b: [string, string[]], describe: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const left = spawn(a[0], a[1], { stdio: ["ignore", "pipe", "pipe"] });
    const right = spawn(b[0], b[1], { stdio: ["pipe", "pipe", "pipe"] });
    left.stdout.pipe(right.stdin);
    let out = "";
    let errA = "";
    let errB = "";
    left.stderr.setEncoding("utf8").on("data", (d: string) => {
      errA += d;
    });
    right.stderr.setEncoding("utf8").on("data", (d: string) => {
      errB += d;
    });
    right.stdout.setEncoding("utf8").on("data", (d: string) => {
      out += d;
    });
    const codes = [new Promise<number | null>((r) => left.on("close", r)), new Promise<number | null>((r) => right.on("close", r))];
    for (const c of [left, right]) c.on("error", (err) => reject(err));
    void Promise.all(codes).then(([ca = null, cb = null]) => {
      if (ca !== 0) reject(failure(a[0], describe, ca, errA));
      else if (cb !== 0) reject(failure(b[0], describe, cb, errB));
      else resolve(out);
    });
  });
}
