import { EnvironmentError } from "@pifleet/fleet";

/**
 * What the controller (the laptop running `pifleet bootstrap`) must have, and how a person gets it
 * (pure). Everything missing is reported at once: one round of installing, not one per run.
 */

export interface Tool {
  program: string;
  /** Which step needs it. */
  neededFor: string;
  install: string;
}

/** The Docker CLI is not among them: bootstrap builds and deploys nothing; the pipeline does, on the Pis. */
export const CONTROLLER_TOOLS: readonly Tool[] = [
  { program: "ansible-playbook", neededFor: "configuring the Pis", install: "apt install ansible (Debian, Ubuntu, Raspberry Pi OS)" },
  { program: "ssh", neededFor: "writing each runner's config.toml", install: "apt install openssh-client" },
  { program: "ssh-keyscan", neededFor: "reading the Pis' host keys", install: "apt install openssh-client" },
];

export interface ControllerFacts {
  missingTools: readonly Tool[];
  /** SSH private keys bootstrap reads (the fleet's; the plan jobs' if given), and why one cannot be read (undefined: readable). */
  keys: readonly { path: string; problem?: string | undefined }[];
  /** Environment variables bootstrap reads secrets from, and whether each is set (non-empty). */
  env: readonly { name: string; set: boolean; holds: string }[];
}

export interface Problem {
  what: string;
  fix: string;
}

export function controllerProblems(facts: ControllerFacts): Problem[] {
  const tools = facts.missingTools.map((t) => ({
    what: `${t.program} is not on PATH (needed for ${t.neededFor})`,
    fix: t.install,
  }));
  const keys = facts.keys
    .filter((k) => k.problem !== undefined)
    .map((k) => ({
      what: `the SSH key ${k.path} cannot be read (${k.problem})`,
      fix: "create it (ssh-keygen -t ed25519 -f <path>) and give Raspberry Pi Imager its .pub, or fix the path (ssh.privateKey in the fleet file, PIFLEET_SSH_KEY, --plan-key)",
    }));
  const env = facts.env
    .filter((e) => !e.set)
    .map((e) => ({ what: `the environment variable ${e.name} is not set`, fix: `export ${e.name}=… (${e.holds})` }));
  return [...tools, ...keys, ...env];
}

/** Exit 3, every problem on its own line with its fix. */
export function prerequisitesError(problems: readonly Problem[]): EnvironmentError {
  return new EnvironmentError(
    `this machine is not ready to bootstrap the fleet:\n${problems.map((p) => `  - ${p.what}\n    fix: ${p.fix}`).join("\n")}`,
    "Fix the above and rerun pifleet bootstrap; it changes nothing until they are fixed. See docs/bootstrap.md.",
  );
}
