import { DiagnosticsError, ExitCode, PifleetError } from "@pifleet/fleet";
import { type Command, CommanderError } from "commander";
import { paint } from "./output.js";
import { buildProgram } from "./program.js";

function fail(message: string, code: number, hint?: string, located = false): void {
  // Located diagnostics already start with FILE:LINE:COL, as compilers print them.
  process.stderr.write(located ? `${message}\n` : `${paint("error:", "red", process.stderr)} ${message}\n`);
  if (hint) process.stderr.write(`${hint}\n`);
  process.exitCode = code;
}

/** Commander exits by itself on bad usage; route every level through main so it exits 2. */
function overrideExits(command: Command): void {
  command.exitOverride();
  for (const sub of command.commands) overrideExits(sub);
}

async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  overrideExits(program);
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are not failures; every other parse error is bad input.
      process.exitCode = err.exitCode === 0 ? ExitCode.ok : ExitCode.badInput;
      return;
    }
    if (err instanceof PifleetError) {
      fail(err.message, err.exitCode, err.hint, err instanceof DiagnosticsError);
      return;
    }
    const e = err as Error;
    fail(
      `${e.message}\n${process.argv.includes("--verbose") ? (e.stack ?? "") : "(run with --verbose for the stack trace)"}`,
      ExitCode.failed,
    );
  }
}

// `pifleet … | head` closes stdout early: that is the reader's choice, not a failure.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw err;
});
process.on("SIGINT", () => process.exit(130));
process.on("SIGTERM", () => process.exit(143));
await main(process.argv);
