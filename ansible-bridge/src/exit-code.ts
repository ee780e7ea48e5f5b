import { ExitCode, type ExitCodeValue } from "@pifleet/fleet";

/**
 * ansible-playbook's exit code → pifleet's. Ansible: 0 ok, 1 error (bad
 * playbook, variables or inventory), 2 a host failed, 4 a host unreachable,
 * 8 a play broke on failures, 5 bad command-line options, 99 interrupted,
 * 250 unexpected error. Several failure bits may be or'ed together.
 */
export function mapAnsibleExit(code: number): ExitCodeValue {
  if (code === 0) return ExitCode.ok;
  if (code === 1 || code === 5) return ExitCode.badInput;
  return ExitCode.failed;
}

/** Lines of ansible-playbook's stderr that explain a failure ("ERROR! …"), for messages. */
export function errorLines(stderr: string): string[] {
  const lines = stderr.split("\n");
  const start = lines.findIndex((l) => l.startsWith("ERROR!"));
  return start < 0 ? [] : lines.slice(start, start + 12).filter((l) => l.trim() !== "");
}
