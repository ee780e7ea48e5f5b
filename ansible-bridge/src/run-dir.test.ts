import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { closeSshMasters, prepareRunDir } from "./run-dir.js";
import { threeNodeFleet } from "./test-support/fleets.js";

const created: string[] = [];
afterEach(async () => {
  await Promise.all(created.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function controlPathDirOf(config: string): Promise<string> {
  const cfg = await readFile(config, "utf8");
  return cfg.match(/^control_path_dir = (.*)$/m)?.[1] ?? "";
}

describe("prepareRunDir's SSH control dir", () => {
  it("keeps the sockets in the work dir, 0700, when its path leaves room for them", async () => {
    const root = await mkdtemp("/tmp/pf-");
    created.push(root);
    const cp = await controlPathDirOf((await prepareRunDir(threeNodeFleet(), join(root, "w"))).config);
    expect(cp).toBe(join(root, "w", "cp"));
    expect((await stat(cp)).mode & 0o777).toBe(0o700);
  });

  it("gives a long work dir a fresh private dir per run, never a predictable shared /tmp name", async () => {
    const root = await mkdtemp(join(tmpdir(), "pifleet-run-dir-test-"));
    created.push(root);
    const workDir = join(root, "a-work-dir-whose-path-leaves-no-room-for-ssh-control-sockets");
    const first = await controlPathDirOf((await prepareRunDir(threeNodeFleet(), workDir)).config);
    const second = await controlPathDirOf((await prepareRunDir(threeNodeFleet(), workDir)).config);
    created.push(first, second);

    expect(first).not.toBe(second);
    for (const cp of [first, second]) {
      expect(cp.startsWith(workDir)).toBe(false);
      expect(cp).toMatch(/\/pifleet-cp-[A-Za-z0-9]{6}$/);
      // Room for %C (40 hex) and the socket's suffix within the ~104-byte limit.
      expect(cp.length + 1 + 40 + 17).toBeLessThanOrEqual(104);
      const st = await stat(cp);
      expect(st.mode & 0o777).toBe(0o700);
      expect(st.uid).toBe(process.getuid?.());
    }

    await closeSshMasters(workDir);
    await expect(stat(first)).rejects.toMatchObject({ code: "ENOENT" });
    await expect(stat(second)).rejects.toMatchObject({ code: "ENOENT" });
  });
});
