/**
 * Errors shared by every pifleet module. Each carries the exit code the CLI
 * turns it into, so modules never call process.exit themselves.
 */
export const ExitCode = {
  ok: 0,
  failed: 1,
  badInput: 2,
  environmentMissing: 3,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export class PifleetError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue,
    /** What the person can do about it; printed after the message. */
    readonly hint?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bad input or configuration: exit 2. */
export class InputError extends PifleetError {
  constructor(message: string, hint?: string) {
    super(message, ExitCode.badInput, hint);
  }
}

/** An operation that was attempted and failed: exit 1. */
export class OperationError extends PifleetError {
  constructor(message: string, hint?: string) {
    super(message, ExitCode.failed, hint);
  }
}

/** Something the environment lacks (a Docker engine, ansible-playbook): exit 3. */
export class EnvironmentError extends PifleetError {
  constructor(message: string, hint?: string) {
    super(message, ExitCode.environmentMissing, hint);
  }
}

/** A problem located in a source file, printed as FILE:LINE:COL: message. */
export interface Diagnostic {
  file: string;
  line: number;
  col: number;
  message: string;
  /** Dotted path of the offending value, e.g. nodes[2].address. */
  path: string;
}

export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.col}: ${d.message}`;
}

/** One or more located problems in a file: exit 2, every problem at once. */
export class DiagnosticsError extends InputError {
  constructor(
    readonly diagnostics: Diagnostic[],
    hint?: string,
  ) {
    super(diagnostics.map(formatDiagnostic).join("\n"), hint);
  }
}
