import { createHmac, randomBytes } from "node:crypto";
import { chmod, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EnvironmentError } from "@pifleet/fleet";
import { describe, expect, it } from "vitest";
import { isPinned, knownKeysFor, readKnownHosts, revokedKeysFor } from "./known-hosts.js";

const KEY_A = Buffer.from("key-a").toString("base64");
const KEY_B = Buffer.from("key-b").toString("base64");

function hashed(host: string): string {
  const salt = randomBytes(20);
  return `|1|${salt.toString("base64")}|${createHmac("sha1", salt).update(host).digest("base64")}`;
}

describe("knownKeysFor", () => {
  it("matches plain host fields, also in a comma list", () => {
    const text = `# comment\n198.18.0.2 ssh-ed25519 ${KEY_A}\nnode1,198.18.0.3 ssh-ed25519 ${KEY_B}\n`;
    expect(knownKeysFor(text, "198.18.0.2").map((k) => k.key.toString())).toEqual(["key-a"]);
    expect(knownKeysFor(text, "198.18.0.3").map((k) => k.key.toString())).toEqual(["key-b"]);
    expect(knownKeysFor(text, "198.18.0.9")).toEqual([]);
  });

  it("matches hashed host fields", () => {
    const text = `${hashed("198.18.0.5")} ssh-ed25519 ${KEY_A}\n${hashed("[198.18.0.5]:2222")} ssh-ed25519 ${KEY_B}\n`;
    expect(knownKeysFor(text, "198.18.0.5").map((k) => k.key.toString())).toEqual(["key-a"]);
    expect(knownKeysFor(text, "198.18.0.5", 2222).map((k) => k.key.toString())).toEqual(["key-b"]);
    expect(knownKeysFor(text, "198.18.0.6")).toEqual([]);
  });

  it("keeps ports apart: [host]:port for non-22, bare host only for 22", () => {
    const text = `[127.0.0.1]:2201 ssh-ed25519 ${KEY_A}\n127.0.0.1 ssh-ed25519 ${KEY_B}\n`;
    expect(knownKeysFor(text, "127.0.0.1", 2201).map((k) => k.key.toString())).toEqual(["key-a"]);
    expect(knownKeysFor(text, "127.0.0.1", 22).map((k) => k.key.toString())).toEqual(["key-b"]);
    expect(knownKeysFor(text, "127.0.0.1", 2202)).toEqual([]);
  });

  it("pins nothing from marker lines", () => {
    expect(knownKeysFor(`@revoked 198.18.0.2 ssh-ed25519 ${KEY_A}\n`, "198.18.0.2")).toEqual([]);
  });
});

describe("@revoked", () => {
  it("never pins a key marked @revoked for the host, even where a plain line pins it; names the revoking line", () => {
    const text = `198.18.0.2 ssh-ed25519 ${KEY_A}\n198.18.0.2 ssh-rsa ${KEY_B}\n# withdrawn\n@revoked 198.18.0.2 ssh-ed25519 ${KEY_A}\n`;
    expect(knownKeysFor(text, "198.18.0.2").map((k) => k.key.toString())).toEqual(["key-b"]);
    expect(revokedKeysFor(text, "198.18.0.2")).toEqual([{ type: "ssh-ed25519", key: Buffer.from("key-a"), line: 4 }]);
    expect(revokedKeysFor(text, "198.18.0.3")).toEqual([]);
  });

  it("reads wildcard and negated host patterns, as OpenSSH does", () => {
    const text = `198.18.0.* ssh-ed25519 ${KEY_B}\n@revoked *,!198.18.0.9 ssh-ed25519 ${KEY_A}\n`;
    expect(revokedKeysFor(text, "198.18.0.2").map((r) => r.line)).toEqual([2]);
    expect(revokedKeysFor(text, "198.18.0.9")).toEqual([]);
    expect(knownKeysFor(text, "198.18.0.2").map((k) => k.key.toString())).toEqual(["key-b"]);
    expect(knownKeysFor(text, "198.18.1.2")).toEqual([]);
  });
});

describe("isPinned", () => {
  it("accepts only a pinned key", () => {
    const pinned = knownKeysFor(`198.18.0.2 ssh-ed25519 ${KEY_A}\n`, "198.18.0.2");
    expect(isPinned(Buffer.from("key-a"), pinned)).toBe(true);
    expect(isPinned(Buffer.from("key-b"), pinned)).toBe(false);
  });
});

describe("readKnownHosts", () => {
  it("reads the file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "io-kh-"));
    await writeFile(join(dir, "known_hosts"), "x ssh-ed25519 AAAA\n");
    expect(await readKnownHosts(join(dir, "known_hosts"))).toContain("ssh-ed25519");
  });

  it("is an EnvironmentError naming the file when it is missing", async () => {
    const file = join(tmpdir(), "io-kh-does-not-exist", "known_hosts");
    const err = await readKnownHosts(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EnvironmentError);
    expect((err as Error).message).toContain(file);
    expect((err as Error).message).not.toMatch(/no host key/);
  });

  it.skipIf(process.getuid?.() === 0)("is an EnvironmentError when unreadable", async () => {
    const dir = await mkdtemp(join(tmpdir(), "io-kh-"));
    const file = join(dir, "known_hosts");
    await writeFile(file, "x");
    await chmod(file, 0);
    await expect(readKnownHosts(file)).rejects.toThrow(EnvironmentError);
  });

  it("is an EnvironmentError when the path is a directory", async () => {
    const dir = await mkdtemp(join(tmpdir(), "io-kh-"));
    await expect(readKnownHosts(dir)).rejects.toThrow(/cannot read the known_hosts file .*EISDIR/);
  });
});
