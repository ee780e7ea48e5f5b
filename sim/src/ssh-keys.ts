import { access, readFile } from "node:fs/promises";
import { run } from "@pifleet/io";

/**
 * An ed25519 key pair at path (private) and path.pub, generated with ssh-keygen unless it
 * already exists. Returns the public key line.
 */
export async function ensureKeyPair(path: string, comment: string): Promise<string> {
  const exists = await access(path).then(
    () => true,
    () => false,
  );
  if (!exists) await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", path]);
  return (await readFile(`${path}.pub`, "utf8")).trim();
}
