import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { run } from "@pifleet/io";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ROLE_TAGS } from "./configure.js";
import { ANSIBLE_DIR } from "./run-dir.js";

const packageDir = join(ANSIBLE_DIR, "..");
const roles = readdirSync(join(ANSIBLE_DIR, "roles")).sort();
/** Variables several roles read under one name: the inventory sets each once for all of them. */
const SHARED_ROLE_VARIABLES = ["pifleet_sim"];

/** Runs a linter and returns its output; a non-zero exit fails with all of that output as the message. */
async function lint(cmd: string, args: string[]): Promise<string> {
  const { stdout, stderr, code } = await run(cmd, args, { cwd: packageDir, env: { ...process.env, NO_COLOR: "1" }, allowFailure: true });
  if (code !== 0) throw new Error(`${cmd} failed:\n${stdout}${stderr}`);
  return stdout + stderr;
}

// ansible-lint and the syntax checks take seconds here, and minutes in a loaded 1-GiB pipeline job on a Pi.
describe("the Ansible content", { timeout: 240_000 }, () => {
  it("is clean under yamllint", async () => {
    await lint("yamllint", ["--strict", "-c", ".yamllint", "ansible"]);
  });

  it("is clean under ansible-lint's production profile", async () => {
    const out = await lint("ansible-lint", ["--profile", "production", "--offline", "-c", ".ansible-lint", "ansible"]);
    expect(out).toMatch(/Passed with production profile/);
  });

  it("passes ansible-playbook --syntax-check", async () => {
    await lint("ansible-playbook", ["--syntax-check", "-i", "localhost,", join(ANSIBLE_DIR, "site.yml")]);
  });

  it("runs every role from site.yml, in order, each with its own tag", () => {
    const plays = parse(readFileSync(join(ANSIBLE_DIR, "site.yml"), "utf8")) as Array<{ roles: Array<{ role: string; tags: string[] }> }>;
    const used = plays.flatMap((p) => p.roles);
    expect(used.map((r) => r.role)).toEqual([...ROLE_TAGS]);
    for (const r of used) expect(r.tags).toEqual([r.role]);
    expect([...ROLE_TAGS].sort()).toEqual(roles);
  });

  it.each(roles)("role %s documents every default in its README, prefixed with the role name or shared", (role) => {
    const defaults = parse(readFileSync(join(ANSIBLE_DIR, "roles", role, "defaults/main.yml"), "utf8")) as Record<string, unknown>;
    const readme = readFileSync(join(ANSIBLE_DIR, "roles", role, "README.md"), "utf8");
    const keys = Object.keys(defaults);
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) {
      expect(key.startsWith(`${role}_`) || SHARED_ROLE_VARIABLES.includes(key), `${key} lacks the ${role}_ prefix`).toBe(true);
      expect(readme, `${role}/README.md does not document ${key}`).toContain(`\`${key}\``);
    }
  });
});
