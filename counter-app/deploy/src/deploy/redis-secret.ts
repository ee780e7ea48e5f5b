import { createHash } from "node:crypto";
import type { FleetNode } from "@pifleet/fleet";
import { type NodeShell, Secret, shellQuote } from "@pifleet/io";

/** Where the Ansible role redis keeps the fleet's Redis password on every redis node (its redis_password_file). */
export const REDIS_PASSWORD_FILE = "/etc/redis/pifleet-password";
/** Label on every Docker secret pifleet made for the Redis password. */
export const REDIS_SECRET_LABEL = "pifleet.redis-password";
const REDIS_SECRET_PREFIX = "pifleet_redis_password_";

/**
 * The Docker secret that holds this password (pure). Swarm secrets cannot change: each password gets its own,
 * named by a hash of it, so a new password is a new name in the stack file and Swarm rolls the app onto it.
 * The hash of a 40-character random password tells nothing about it.
 */
export const redisSecretName = (password: Secret): string =>
  `${REDIS_SECRET_PREFIX}${createHash("sha256").update(password.reveal()).digest("hex").slice(0, 16)}`;

/**
 * The fleet's Redis password, read as root on the first redis node that has it; undefined when none has one
 * (a fleet the role has not converged since it gained the password: its Redis requires none either, as the
 * role writes the file before it requires it). A node that does not answer is skipped.
 */
export async function readRedisPassword(shell: NodeShell, redisNodes: readonly FleetNode[]): Promise<Secret | undefined> {
  for (const node of redisNodes) {
    const read = await shell
      .script(node, `cat ${shellQuote(REDIS_PASSWORD_FILE)} 2>/dev/null || true`, {
        root: true,
        describe: "read the fleet's Redis password",
      })
      .catch(() => undefined);
    const password = read?.stdout.trim();
    if (password) return new Secret(password);
  }
  return undefined;
}

/** Creates the password's Docker secret on the manager unless it exists (the password goes on stdin); returns its name. */
export async function ensureRedisSecret(shell: NodeShell, manager: FleetNode, password: Secret): Promise<string> {
  const name = redisSecretName(password);
  await shell.script(
    manager,
    `docker secret inspect ${shellQuote(name)} >/dev/null 2>&1 || docker secret create --label ${REDIS_SECRET_LABEL}=true ${shellQuote(name)} - >/dev/null`,
    { input: password.reveal(), describe: `create the Docker secret ${name}` },
  );
  return name;
}

/** The secrets a service's tasks get, by name (`docker service inspect`); none when the service does not exist. */
export async function serviceSecrets(shell: NodeShell, manager: FleetNode, service: string): Promise<string[]> {
  const out = await shell.script(
    manager,
    `docker service inspect --format '{{range .Spec.TaskTemplate.ContainerSpec.Secrets}}{{.SecretName}} {{end}}' ${shellQuote(service)} 2>/dev/null || true`,
    { describe: `read the secrets of ${service}` },
  );
  return out.stdout.split(/\s+/).filter(Boolean);
}
