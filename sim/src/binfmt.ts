import { access, readFile, writeFile } from "node:fs/promises";
import { EnvironmentError } from "@pifleet/fleet";

/**
 * arm64 nodes run through binfmt_misc's qemu-aarch64 entry. Debian registers it without the
 * C (credentials) flag, so setuid programs lose their privileges under emulation and sudo fails
 * ("effective uid is not 0") — and the Ansible roles need sudo. The sim adds its own entry,
 * same magic and interpreter plus the O and C flags; binfmt_misc tries the newest entry first,
 * so it takes precedence without touching Debian's, and removing it restores the original.
 */
const BINFMT = "/proc/sys/fs/binfmt_misc";
export const SIM_BINFMT_ENTRY = "pifleet-aarch64";
const DEBIAN_ENTRY = "qemu-aarch64";

/** The register line for our entry, derived from the existing entry's text. Pure. */
export function credentialsEntryLine(existing: string, name = SIM_BINFMT_ENTRY): string {
  const field = (key: string) => new RegExp(`^${key}:? (.*)$`, "m").exec(existing)?.[1]?.trim();
  const interpreter = field("interpreter");
  const magic = field("magic");
  const mask = field("mask");
  const offset = field("offset") ?? "0";
  if (!interpreter || !magic || !mask) throw new Error(`unexpected binfmt_misc entry:\n${existing}`);
  const flags = new Set([...(field("flags") ?? ""), "O", "C"]);
  const hex = (h: string) => h.replace(/../g, (b) => `\\x${b}`);
  return `:${name}:M:${offset}:${hex(magic)}:${hex(mask)}:${interpreter}:${[...flags].sort().join("")}`;
}

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

/** Makes setuid work in arm64 nodes (see above); needs root and Debian's qemu-aarch64 entry. */
export async function ensureArm64Credentials(): Promise<void> {
  if (await exists(`${BINFMT}/${SIM_BINFMT_ENTRY}`)) return;
  const existing = await readFile(`${BINFMT}/${DEBIAN_ENTRY}`, "utf8").catch(() => "");
  if (!existing.startsWith("enabled")) {
    throw new EnvironmentError(
      "arm64 nodes need qemu-user emulation, but binfmt_misc has no enabled qemu-aarch64 entry",
      "Run scripts/setup as root (installs qemu-user-static and binfmt-support and enables qemu-aarch64).",
    );
  }
  await writeFile(`${BINFMT}/register`, credentialsEntryLine(existing));
}

/** Removes the sim's entry (Debian's stays); called by the last `sim down` on the machine. */
export async function removeArm64Credentials(): Promise<boolean> {
  if (!(await exists(`${BINFMT}/${SIM_BINFMT_ENTRY}`))) return false;
  await writeFile(`${BINFMT}/${SIM_BINFMT_ENTRY}`, "-1");
  return true;
}
