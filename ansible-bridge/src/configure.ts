import { access } from "node:fs/promises";
import { type Fleet, InputError } from "@pifleet/fleet";
import { SITE_PLAYBOOK } from "./run-dir.js";
import { type PlaybookResult, type RunPlaybookOptions, runPlaybook } from "./run-playbook.js";

/** site.yml's tags, one per role, in the order the roles run. */
export const ROLE_TAGS = ["base", "raspberrypi", "docker", "registry", "swarm", "gitlab_runner", "redis", "keepalived"] as const;

export type ConfigureOptions = Omit<RunPlaybookOptions, "playbook" | "limit"> & {
  /** Node names to configure; default every node. */
  limit?: string[];
};

/** Checks --limit and --tags against the fleet before Ansible runs (pure). */
export function checkConfigureInput(fleet: Fleet, limit: readonly string[] = [], tags: readonly string[] = []): void {
  const names = fleet.nodes.map((n) => n.name);
  const unknownNodes = limit.filter((n) => !names.includes(n));
  if (unknownNodes.length > 0)
    throw new InputError(
      `--limit: unknown node ${unknownNodes.map((n) => `"${n}"`).join(", ")}`,
      `Nodes in the fleet: ${names.join(", ")}.`,
    );
  const unknownTags = tags.filter((t) => !(ROLE_TAGS as readonly string[]).includes(t));
  if (unknownTags.length > 0)
    throw new InputError(
      `--tags: unknown tag ${unknownTags.map((t) => `"${t}"`).join(", ")}`,
      `Tags (one per role): ${ROLE_TAGS.join(", ")}.`,
    );
}

async function mustExist(path: string, what: string): Promise<void> {
  try {
    await access(path);
  } catch {
    throw new InputError(`${what} ${path} does not exist`, "Check the ssh section of the fleet file (paths are relative to it).");
  }
}

/** Runs site.yml against the fleet: `pifleet configure`. */
export async function configure(options: ConfigureOptions): Promise<PlaybookResult> {
  const { fleet, limit = [], tags = [] } = options;
  checkConfigureInput(fleet, limit, tags);
  await mustExist(fleet.ssh.privateKey, "ssh.privateKey");
  await mustExist(fleet.ssh.knownHosts, "ssh.knownHosts");
  return runPlaybook({ ...options, playbook: SITE_PLAYBOOK, limit: limit.join(","), tags });
}
