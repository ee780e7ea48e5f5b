import { access, mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { EnvironmentError, ExitCode } from "@pifleet/fleet";
import { run } from "@pifleet/io";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AnsibleEvent } from "./events.js";
import { secretValues } from "./mask.js";
import { renderMarkdownReport } from "./report.js";
import { prepareRunDir } from "./run-dir.js";
import { runPlaybook } from "./run-playbook.js";
import { threeNodeFleet } from "./test-support/fleets.js";

// Real ansible-playbook, run against this machine with the local connection (no SSH, no network):
// the fleet's two nodes both map to localhost, and each writes its own file in a temp dir.
// node1 is the swarm manager a valid fleet needs (the inventory resolves the fleet's topology).
const playbook = fileURLToPath(new URL("./fixtures/play.yml", import.meta.url));
const fleet = threeNodeFleet({}, [
  { name: "node1", address: "127.0.0.1", roles: ["swarm-manager", "runner"] },
  { name: "node2", address: "127.0.0.2", roles: ["runner"] },
]);
let dir: string;
const vars = (value: number) => ({ ansible_connection: "local", fixture_dir: dir, fixture_value: value, fixture_token: "s3cr3t-token" });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "pifleet-run-playbook-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("runPlaybook (real ansible-playbook, local connection)", () => {
  it("streams events, ends with a per-host recap and maps a failed host to exit 1", async () => {
    const events: AnsibleEvent[] = [];
    const result = await runPlaybook({ fleet, playbook, workDir: join(dir, "work"), extraVars: vars(1), onEvent: (e) => events.push(e) });
    expect(events.filter((e) => e.kind === "result").length).toBeGreaterThanOrEqual(6);
    expect(events.at(-1)?.kind).toBe("recap");
    expect(result.hosts.node1).toEqual({ ok: 2, changed: 1, unreachable: 0, failed: 0, skipped: 2 });
    expect(result.hosts.node2).toMatchObject({ changed: 1, failed: 1 });
    expect(result.ansibleExitCode).toBe(2);
    expect(result.exitCode).toBe(ExitCode.failed);
    expect(await readFile(join(dir, "out-node1.conf"), "utf8")).toBe("setting = 1\ntoken = s3cr3t-token\n");
  });

  it("writes the run's files private, keeping secrets out of the inventory", async () => {
    const result = await runPlaybook({ fleet, playbook, workDir: join(dir, "work"), extraVars: vars(1) });
    for (const f of ["inventory.yml", "ansible.cfg", "extra-vars.json"])
      expect((await stat(join(result.runDir, f))).mode & 0o777).toBe(0o600);
    expect(await readFile(join(result.runDir, "inventory.yml"), "utf8")).not.toContain("s3cr3t");
    expect(result.hosts.node1?.changed).toBe(0);
  });

  it("under --check --diff reports the change with its diff and changes nothing", async () => {
    const result = await runPlaybook({ fleet, playbook, workDir: join(dir, "work"), extraVars: vars(2), check: true, diff: true });
    expect(result.check).toBe(true);
    const change = result.changes.find((c) => c.host === "node1");
    // Masked as parsed: what `configure --json` prints (the result as it is) holds no secret either.
    expect(change?.diffs[0]).toMatchObject({ before: "setting = 1\ntoken = [redacted]\n", after: "setting = 2\ntoken = [redacted]\n" });
    expect(JSON.stringify(result)).not.toContain("s3cr3t");
    expect(await readFile(join(dir, "out-node1.conf"), "utf8")).toBe("setting = 1\ntoken = s3cr3t-token\n");
    const report = renderMarkdownReport(result, { check: true, secrets: secretValues(vars(2)) });
    expect(report).toContain("+setting = 2");
    expect(report).not.toContain("s3cr3t");
  });

  it("never templates a fleet value: a label holding a pipe lookup stays text, even in a known_hosts path with a space", async () => {
    const started = Date.now();
    const pwned = join(dir, "pwned");
    const label = `{{ lookup('pipe', 'touch ${pwned}') }}`;
    const labelled = threeNodeFleet({ ssh: { user: "pi", privateKey: "/keys/id_ed25519", knownHosts: join(dir, "my keys/known_hosts") } }, [
      { name: "node1", address: "127.0.0.1", roles: ["swarm-manager", "runner"], labels: { note: label } },
    ]);
    const runDir = await prepareRunDir(labelled, join(dir, "work"));
    // debug var= templates the variable, nested values included: what any role's use of it would do.
    const res = await run("ansible", ["all", "-i", runDir.inventory, "-c", "local", "-m", "debug", "-a", "var=swarm_labels"], {
      env: { ...process.env, ANSIBLE_CONFIG: runDir.config, ANSIBLE_STDOUT_CALLBACK: "json", ANSIBLE_LOAD_CALLBACK_PLUGINS: "1" },
      allowFailure: true,
    });
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain(`lookup('pipe', 'touch ${pwned}')`);
    await expect(access(pwned)).rejects.toThrow(/ENOENT/);
    console.log(`ansible debug of an !unsafe inventory: ${Date.now() - started} ms`);
  });

  it("reports Ansible's own errors as bad input (exit 2)", async () => {
    const result = await runPlaybook({ fleet, playbook: join(dir, "missing.yml"), workDir: join(dir, "work") });
    expect(result.exitCode).toBe(ExitCode.badInput);
    expect(result.errors.join("\n")).toContain("missing.yml");
  });

  it("says ansible-playbook is missing with an EnvironmentError (exit 3)", async () => {
    const run = runPlaybook({ fleet, playbook, workDir: join(dir, "work"), ansiblePlaybook: "ansible-playbook-not-installed" });
    await expect(run).rejects.toBeInstanceOf(EnvironmentError);
    await expect(run).rejects.toThrow(/ansible-playbook-not-installed not found/);
  });
});
