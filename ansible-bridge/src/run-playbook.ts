import { EnvironmentError, type ExitCodeValue, type Fleet } from "@pifleet/fleet";
import { eachLine, run, scrubTokens } from "@pifleet/io";
import { type AnsibleEvent, parseLine } from "./events.js";
import { errorLines, mapAnsibleExit } from "./exit-code.js";
import { maskEvent, secretValues } from "./mask.js";
import { type RunSummary, summarise } from "./recap.js";
import { DEFAULT_WORK_DIR, prepareRunDir } from "./run-dir.js";

export interface RunPlaybookOptions {
  fleet: Fleet;
  /** Absolute path of the playbook to run. */
  playbook: string;
  /** Ansible --limit pattern, e.g. "pi1,pi2". */
  limit?: string;
  /** Ansible --tags, e.g. ["docker", "swarm"]. */
  tags?: string[];
  check?: boolean;
  diff?: boolean;
  /** Passed as --extra-vars @file; values under secret-looking names are masked in everything shown. */
  extraVars?: Record<string, unknown>;
  /** Called for every event as it streams in (live progress). */
  onEvent?: (event: AnsibleEvent) => void;
  /** Generated files, fact cache and SSH sockets go here (default .pifleet/ansible). */
  workDir?: string;
  /** The ansible-playbook executable (default: from PATH). */
  ansiblePlaybook?: string;
  signal?: AbortSignal;
}

export interface PlaybookResult extends RunSummary {
  /** pifleet's exit code for this run: 0 ok, 1 a host failed or was unreachable, 2 bad input. */
  exitCode: ExitCodeValue;
  ansibleExitCode: number;
  /** Ansible's own error lines ("ERROR! …"), masked; empty when hosts merely failed. */
  errors: string[];
  check: boolean;
  durationMs: number;
  /** Where this run's generated inventory and ansible.cfg are. */
  runDir: string;
}

/** Ansible's arguments for the options (pure). */
export function playbookArgs(
  o: { inventory: string; extraVarsFile: string; playbook: string } & Pick<RunPlaybookOptions, "limit" | "tags" | "check" | "diff">,
): string[] {
  const args = ["-i", o.inventory, "--extra-vars", `@${o.extraVarsFile}`];
  if (o.check) args.push("--check");
  if (o.diff) args.push("--diff");
  if (o.limit) args.push("--limit", o.limit);
  if (o.tags && o.tags.length > 0) args.push("--tags", o.tags.join(","));
  args.push(o.playbook);
  return args;
}

/**
 * Runs a playbook against the fleet with a generated inventory and config,
 * streaming typed events, and resolves with the per-host recap. Host failures
 * are a result (exitCode 1), not an exception; a missing ansible-playbook is
 * an EnvironmentError (exit 3).
 */
export async function runPlaybook(options: RunPlaybookOptions): Promise<PlaybookResult> {
  const started = Date.now();
  const extraVars = options.extraVars ?? {};
  const secrets = secretValues(extraVars);
  const runDir = await prepareRunDir(options.fleet, options.workDir ?? DEFAULT_WORK_DIR, extraVars);
  const bin = options.ansiblePlaybook ?? "ansible-playbook";
  const args = playbookArgs({ ...options, inventory: runDir.inventory, extraVarsFile: runDir.extraVars });
  const events: AnsibleEvent[] = [];
  // Events are parsed from stdout line by line as they arrive (live progress); stderr stays apart for errorLines.
  const lines = eachLine((line) => {
    // Masked here, once: the summary, --json, the report and progress lines all see only masked text.
    for (const event of parseLine(line).map((e) => maskEvent(e, secrets))) {
      events.push(event);
      options.onEvent?.(event);
    }
  });
  const { code, stderr } = await run(bin, args, {
    cwd: runDir.dir,
    env: { ...process.env, ANSIBLE_CONFIG: runDir.config, PYTHONUNBUFFERED: "1", ANSIBLE_NOCOLOR: "1", ANSIBLE_FORCE_COLOR: "0" },
    // Its exit code is a result here, mapped by mapAnsibleExit: a failed host is not an exception.
    allowFailure: true,
    onStdout: lines,
    signal: options.signal,
  }).catch((err: unknown) => {
    // io's run says only "not installed" (its one EnvironmentError); this names the package to install.
    if (err instanceof EnvironmentError)
      throw new EnvironmentError(
        `${bin} not found: Ansible is not installed on this machine`,
        "Install Debian's ansible package (sudo apt-get install ansible), or run scripts/setup.",
      );
    throw err;
  });
  lines.flush();
  return {
    ...summarise(events),
    exitCode: mapAnsibleExit(code),
    ansibleExitCode: code,
    errors: errorLines(stderr).map((l) => scrubTokens(l, secrets)),
    check: Boolean(options.check),
    durationMs: Date.now() - started,
    runDir: runDir.dir,
  };
}
