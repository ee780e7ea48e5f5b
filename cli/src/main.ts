import type { ExitCode } from "@pifleet/fleet";
import { type AddHelpTextContext, type Command, CommanderError } from "commander";
import { paint } from "./output.js";
import { buildProgram } from "./program.js";

/** ExitCode's values, typed by it so the compiler checks them, without loading @pifleet/fleet for --help. */
const OK: typeof ExitCode.ok = 0;
const BAD_INPUT: typeof ExitCode.badInput = 2;

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

/**
 * Commander answers `pifleet nosuch --help` with the parent's help and exit 0, because it looks for
 * --help before it looks up the command. Before any help is printed, an operand that names no
 * subcommand gets commander's own "unknown command 'nosuch'" error (with its suggestion) instead.
 */
function rejectUnknownCommandsBeforeHelp(program: Command): void {
  program.on("beforeAllHelp", ({ command }: AddHelpTextContext) => {
    const [first] = command.args;
    if (command.commands.length === 0 || first === undefined || first.startsWith("-") || first === "help") return;
    if (command.commands.some((c) => c.name() === first || c.aliases().includes(first))) return;
    // unknownCommand() is commander's (untyped) error for this case: same message and suggestion as without --help.
    (command as unknown as { unknownCommand(): never }).unknownCommand();
  });
}

async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  overrideExits(program);
  rejectUnknownCommandsBeforeHelp(program);
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are not failures; every other parse error is bad input.
      process.exitCode = err.exitCode === 0 ? OK : BAD_INPUT;
      return;
    }
    // Loaded only now: the command that threw has loaded @pifleet/fleet already, and --help need not.
    const { DiagnosticsError, ExitCode, PifleetError } = await import("@pifleet/fleet");
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
