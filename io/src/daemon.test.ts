import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { sleep } from "./clock.js";
import { livePid, spawnDetached, stopPidFile } from "./daemon.js";

let dir: string;
const started: number[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "io-daemon-"));
});
afterEach(async () => {
  // Only if a test failed before stopping its own daemon: by pid, never by name.
  for (const pid of started.splice(0)) if (existsSync(`/proc/${pid}`)) process.kill(pid, "SIGKILL");
  await rm(dir, { recursive: true, force: true });
});

async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 50 && existsSync(`/proc/${pid}`); i++) await sleep(100);
  return !existsSync(`/proc/${pid}`);
}

describe("detached daemons", () => {
  it("starts one detached, sees it live, stops it by its pid file and leaves nothing behind", async () => {
    const pidFile = join(dir, "sleep.pid");
    const pid = await spawnDetached("sleep", ["30"], join(dir, "sleep.log"), pidFile);
    started.push(pid);
    expect(await readFile(pidFile, "utf8")).toBe(String(pid));
    expect(await livePid(pidFile, "sleep")).toBe(pid);

    expect(await stopPidFile(pidFile, "sleep")).toBe(true);
    expect(await gone(pid)).toBe(true);
    expect(await readdir(dir)).toEqual(["sleep.log"]);
    expect(await livePid(pidFile, "sleep")).toBeUndefined();
    expect(await stopPidFile(pidFile, "sleep")).toBe(false);
  });

  it("appends the daemon's output to its log file", async () => {
    const log = join(dir, "echo.log");
    await writeFile(log, "before\n");
    const pid = await spawnDetached("sh", ["-c", "echo out; echo err >&2"], log, join(dir, "echo.pid"));
    started.push(pid);
    expect(await gone(pid)).toBe(true);
    expect((await readFile(log, "utf8")).split("\n").sort()).toEqual(["", "before", "err", "out"]);
  });

  it("a pid whose command line lacks the mark is not ours (pids get reused): never signalled", async () => {
    const pidFile = join(dir, "reused.pid");
    await writeFile(pidFile, String(process.pid));
    expect(await livePid(pidFile, "pifleet-no-such-daemon")).toBeUndefined();
    expect(await stopPidFile(pidFile, "pifleet-no-such-daemon")).toBe(false);
    expect(existsSync(pidFile)).toBe(false);
  });

  it("no pid file, or one without a pid, means no daemon", async () => {
    expect(await livePid(join(dir, "none.pid"), "sleep")).toBeUndefined();
    await writeFile(join(dir, "empty.pid"), "");
    expect(await livePid(join(dir, "empty.pid"), "sleep")).toBeUndefined();
  });
});
