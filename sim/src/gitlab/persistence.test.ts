import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EnvironmentError } from "@pifleet/fleet";
import { afterEach, describe, expect, it } from "vitest";
import { startGitlabEmulator } from "./index.js";
import { LOCK_FILE, loadOrSeedState, STATE_FILE, TOKEN_FILE } from "./persistence.js";

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "pifleet-gitlab-state-"));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const mode = (path: string) => statSync(path).mode & 0o777;

describe("emulator state on disk", () => {
  it("writes the admin token file (0600) and keeps runners, notes, ids and the token across a restart", async () => {
    const stateDir = tempDir();
    const first = await startGitlabEmulator({ stateDir });
    expect(first.tokenFile).toBe(join(stateDir, TOKEN_FILE));
    expect(readFileSync(join(stateDir, TOKEN_FILE), "utf8").trim()).toBe(first.adminToken);
    expect(mode(join(stateDir, TOKEN_FILE))).toBe(0o600);
    expect(mode(join(stateDir, STATE_FILE))).toBe(0o600);
    const headers = { "PRIVATE-TOKEN": first.adminToken, "content-type": "application/json" };
    const created = (await (
      await fetch(`${first.url}/api/v4/user/runners`, {
        method: "POST",
        headers,
        body: JSON.stringify({ runner_type: "group_type", group_id: first.groupId, description: "kept" }),
      })
    ).json()) as { id: number };
    await fetch(`${first.url}/api/v4/projects/${first.projectId}/merge_requests/1/notes`, {
      method: "POST",
      headers,
      body: '{"body":"kept note"}',
    });
    await first.close();

    const second = await startGitlabEmulator({ stateDir });
    try {
      expect(second.adminToken).toBe(first.adminToken);
      const h = { "PRIVATE-TOKEN": second.adminToken, "content-type": "application/json" };
      const runner = (await (await fetch(`${second.url}/api/v4/runners/${created.id}`, { headers: h })).json()) as { description: string };
      expect(runner.description).toBe("kept");
      const notes = (await (
        await fetch(`${second.url}/api/v4/projects/${second.projectId}/merge_requests/1/notes`, { headers: h })
      ).json()) as {
        body: string;
      }[];
      expect(notes.map((n) => n.body)).toEqual(["kept note"]);
      const next = (await (
        await fetch(`${second.url}/api/v4/user/runners`, { method: "POST", headers: h, body: '{"runner_type":"instance_type"}' })
      ).json()) as { id: number };
      expect(next.id).toBe(created.id + 1);
    } finally {
      await second.close();
    }
  });

  it("refuses a corrupt state file with an error naming it and what to do", () => {
    const stateDir = tempDir();
    writeFileSync(join(stateDir, STATE_FILE), "{not json");
    expect(() => loadOrSeedState(stateDir, new Date())).toThrow(EnvironmentError);
    expect(() => loadOrSeedState(stateDir, new Date())).toThrow(new RegExp(`${STATE_FILE}: not valid JSON.*delete it`));
    writeFileSync(join(stateDir, STATE_FILE), '{"version": 9}');
    expect(() => loadOrSeedState(stateDir, new Date())).toThrow(/not a GitLab emulator state/);
  });
});

describe("one emulator per state dir", () => {
  it("refuses a second emulator on a live one's dir, and frees the dir on close", async () => {
    const stateDir = tempDir();
    const first = await startGitlabEmulator({ stateDir });
    await expect(startGitlabEmulator({ stateDir })).rejects.toThrow(
      new RegExp(`another GitLab emulator uses ${stateDir}: the lock .*${LOCK_FILE} is held by the running process ${process.pid}`),
    );
    await first.close();
    const second = await startGitlabEmulator({ stateDir });
    await second.close();
  });

  it("takes over the lock of a process that is gone", async () => {
    const stateDir = tempDir();
    // pid 2^22 + 1 is above Linux's pid_max limit, so no process can hold it.
    writeFileSync(join(stateDir, LOCK_FILE), `${2 ** 22 + 1}\n`);
    const emulator = await startGitlabEmulator({ stateDir });
    expect(readFileSync(join(stateDir, LOCK_FILE), "utf8").trim()).toBe(String(process.pid));
    await emulator.close();
    expect(readdirSync(stateDir)).not.toContain(LOCK_FILE);
  });
});
