import { type ExecResult, run } from "@pifleet/io";

/** Debian's python3-gitlab (3.12) lives in the system interpreter's dist-packages, not in a pyenv one. */
const PYTHON = "/usr/bin/python3";

/**
 * Runs a python-gitlab script, a third-party client the emulator must satisfy as GitLab does. The
 * URL and tokens go in the environment (GL_URL, GL_TOKEN, GL_JOB_TOKEN, …), never in argv; the script
 * prints what the test asserts. Never throws: tests assert the exit code and output.
 */
export function pythonGitlab(script: string, env: Record<string, string>): Promise<ExecResult> {
  return run(PYTHON, ["-c", script], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
    allowFailure: true,
    timeoutMs: 60_000,
    describe: "python-gitlab script",
  });
}
