import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type GitlabEmulator, startGitlabEmulator } from "@pifleet/sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const bin = fileURLToPath(new URL("../../bin/pifleet.js", import.meta.url));

/** Async spawn: the emulator serves from this process, so the CLI must not block it. */
function pifleet(env: Record<string, string>, ...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { PATH: process.env.PATH ?? "", NO_COLOR: "1", ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("pifleet mr note (the binary, against the GitLab API emulator)", () => {
  let gitlab: GitlabEmulator;
  const dir = mkdtempSync(join(tmpdir(), "pifleet-cli-mr-"));
  const report = join(dir, "plan.md");
  beforeAll(async () => {
    gitlab = await startGitlabEmulator();
  });
  afterAll(async () => {
    await gitlab?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("creates the note, then updates the same note; the token never appears in the output", async () => {
    const env = { GITLAB_TOKEN: gitlab.adminToken, CI_API_V4_URL: `${gitlab.url}/api/v4` };
    const args = ["mr", "note", "--project", String(gitlab.projectId), "--mr", "1", "--file", report, "--marker", "cli"];
    writeFileSync(report, "## Plan\none change\n");
    const first = await pifleet(env, "--json", ...args);
    expect(first.code).toBe(0);
    const created = JSON.parse(first.stdout);
    expect(created).toMatchObject({ action: "create", mr: 1, marker: "cli" });
    writeFileSync(report, "## Plan\ntwo changes\n");
    const second = await pifleet(env, ...args);
    expect(second.stdout).toBe(`note ${created.noteId} on !1: updated\n`);
    expect(first.stdout + first.stderr + second.stdout + second.stderr).not.toContain(gitlab.adminToken);
  });

  it("exits 3 and says which variable to set when there is no token", async () => {
    writeFileSync(report, "x");
    const r = await pifleet({ CI_API_V4_URL: `${gitlab.url}/api/v4` }, "mr", "note", "--project", "1", "--mr", "1", "--file", report);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(
      "error: no GitLab token: set GITLAB_TOKEN (a project access token with the api scope; in CI a masked variable)",
    );
  });

  it("takes the token from the variable the fleet's gitlab.tokenEnv names", async () => {
    const example = readFileSync(fileURLToPath(new URL("../../../examples/fleet.yaml", import.meta.url)), "utf8");
    const fleetFile = join(dir, "fleet.yaml");
    writeFileSync(fleetFile, example.replace("tokenEnv: GITLAB_TOKEN", "tokenEnv: FLEET_API_TOKEN"));
    writeFileSync(report, "from the fleet's token\n");
    const args = [
      "--fleet",
      fleetFile,
      "mr",
      "note",
      "--project",
      String(gitlab.projectId),
      "--mr",
      "1",
      "--file",
      report,
      "--marker",
      "fleet",
    ];
    const url = { CI_API_V4_URL: `${gitlab.url}/api/v4` };
    const posted = await pifleet({ ...url, FLEET_API_TOKEN: gitlab.adminToken, GITLAB_TOKEN: "glpat-not-the-fleets-token-000" }, ...args);
    expect(posted.stderr).toBe("");
    expect(posted.code).toBe(0);
    const missing = await pifleet({ ...url, GITLAB_TOKEN: gitlab.adminToken }, ...args);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain("error: no GitLab token: set FLEET_API_TOKEN");
  });

  it("exits 2 on a malformed --mr", async () => {
    const r = await pifleet({}, "mr", "note", "--project", "1", "--mr", "seven", "--file", report);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--mr must be a positive whole number, got "seven"');
  });
});
