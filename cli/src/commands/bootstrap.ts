import { type Command, Option } from "commander";
import { durationOption } from "../flags.js";
import type { BootstrapFlags } from "./bootstrap-actions.js";

const actions = () => import("./bootstrap-actions.js");

export function registerBootstrap(program: Command): void {
  program
    .command("bootstrap")
    .description("the first run from your laptop: check, pin host keys, configure the Pis, register runners, set the CI/CD variables")
    .option("--project <id|path>", "the GitLab project whose pipeline runs the fleet (default: gitlab.runnerScope's project)")
    .option("-y, --yes", "trust new host keys (still shown) and apply without asking; for scripts")
    .addOption(
      new Option("--work-dir <dir>", "generated inventory, ansible.cfg, fact cache").env("PIFLEET_ANSIBLE_DIR").default(".pifleet/ansible"),
    )
    .addOption(durationOption("--drain-timeout <duration>", "how long to wait for running jobs of a runner being removed", "10m"))
    .addHelpText(
      "after",
      `
In order, and safe to rerun (after a lost laptop, a rotated key, a new Pi):
  1. checks this machine (ansible-playbook, ssh, ssh-keyscan, the fleet's key, the token), GitLab and each
     Pi's SSH port;
  2. pins host keys: shows each new node's fingerprints and asks once ("Trust these host keys? [y/N]");
     a key that differs from known_hosts is never accepted (exit 1, with what to do);
  3. shows the plan and the project settings merge-request safety relies on (protected default branch and
     tags: checked through the API where it allows, ✗ when not held), asks ("Apply? [y/N]"), then configures
     the Pis (as \`pifleet configure\`) and registers one runner per node and pool (as \`pifleet runners apply\`);
  4. sets the project's CI/CD variables: PIFLEET_SSH_KEY (file) and GITLAB_TOKEN (masked), both protected and
     scoped to the environment production (only the deploy pool's jobs that name it get them), and
     PIFLEET_NOTE_TOKEN, a Reporter project access token it mints for the MR plan note (api scope; a rerun
     keeps it); the plan key and token of older versions are deleted; names and flags shown, values never;
  5. prints what to commit and push.
The token in gitlab.tokenEnv (default GITLAB_TOKEN) is stored as GITLAB_TOKEN; writing variables needs the api
scope and Maintainer, so a least-privilege runner token can be paired with PIFLEET_BOOTSTRAP_TOKEN, used for the
variables only and never stored. See docs/bootstrap.md.
Exit codes: 0 done, 1 a node unreachable, a host key changed or not trusted, or a step failed; 2 bad input;
3 something missing on this machine (all of it listed, with how to install or set it).
With --json, stdout is {"cluster","gitlab","nodes":[{node,address,hostKey}],"knownHosts","configure","runners","variables","settings","push"}.

Examples:
  $ export GITLAB_TOKEN=glpat-…
  $ pifleet bootstrap                                   asks before trusting keys and before changing anything
  $ pifleet bootstrap --yes --json | jq .variables      for scripts`,
    )
    .action(async (flags: BootstrapFlags, cmd: Command) => (await actions()).bootstrap(flags, cmd));
}
