import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { describeHolder, type LockHolder, lockScript, parseHolder, parseLockLine, renderHolder } from "./runners-lock.js";
import { type LockSite, takeRunnersLock } from "./ssh-runners-lock.js";

/**
 * The runners lock: its holder record and lines (pure), and the real lock script under a local sh with real
 * flock(1) in a temp dir, through the same session code the SSH lock uses (only the command differs).
 */

const NOW = new Date("2026-11-25T07:00:30Z");
const laptop: LockHolder = { host: "laptop", pid: 4242, command: "pifleet runners apply", since: "2026-11-25T07:00:00Z" };
const job: LockHolder = { ...laptop, host: "runner-pi2", pid: 77, job: "https://gitlab.example/p/-/jobs/9" };

describe("holder records and lock lines", () => {
  it("round-trips a holder; an empty, partial or odd record is unknown, never an error", () => {
    expect(parseHolder(renderHolder(job))).toEqual(job);
    expect(parseHolder("")).toBeUndefined();
    expect(parseHolder('{"host":"laptop","pid":')).toBeUndefined();
    expect(parseHolder(JSON.stringify({ ...laptop, pid: "4242" }))).toBeUndefined();
    expect(parseHolder(JSON.stringify({ ...laptop, command: "a\nb" }))).toBeUndefined();
  });

  it("reads the script's lines: waiting/timeout name the holder when it is readable", () => {
    expect(parseLockLine("locked")).toEqual({ kind: "locked" });
    expect(parseLockLine(`waiting ${renderHolder(laptop)}`)).toEqual({ kind: "waiting", holder: laptop });
    expect(parseLockLine("timeout ")).toEqual({ kind: "timeout" });
    expect(parseLockLine("sudo: something else")).toBeUndefined();
  });

  it("describes the holder for a person: what, pid, host, since when, the CI job", () => {
    expect(describeHolder(job, NOW)).toBe(
      "pifleet runners apply (pid 77 on runner-pi2, since 2026-11-25T07:00:00Z, 30 s ago; https://gitlab.example/p/-/jobs/9)",
    );
    expect(describeHolder(undefined, NOW)).toBe("another pifleet run (its holder record is not readable)");
  });
});

describe("the lock script under real flock", () => {
  let dir: string;
  const started: ReturnType<typeof spawn>[] = [];
  const site = (timeoutSec: number): LockSite => ({ node: "pi1", login: "test", command: ["sh", ["-c", lockScript(timeoutSec, dir)]] });
  const take = (holder: LockHolder, timeoutSec: number, waits: string[] = []) =>
    takeRunnersLock(site(timeoutSec), { holder, timeoutSec, onWait: (m) => waits.push(m), now: () => NOW });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "pifleet-lock-test-"));
  });
  afterEach(async () => {
    for (const child of started) {
      child.kill("SIGKILL");
      child.stdin?.destroy();
    }
    await rm(dir, { recursive: true, force: true });
  });

  it("one holder at a time: a second run waits, is told who holds it, and times out naming the holder (exit 1)", async () => {
    const first = await take(laptop, 5);
    expect(JSON.parse(await readFile(join(dir, "runners.holder"), "utf8"))).toEqual(laptop);
    const waits: string[] = [];
    const t0 = Date.now();
    const err = await take(job, 1, waits).catch((e: unknown) => e);
    process.stderr.write(`[lock test] timed out after ${Date.now() - t0} ms\n`);
    expect(waits).toEqual([
      `waiting up to 1 s for the runners lock on pi1 (/run/pifleet/runners.lock), held by ${describeHolder(laptop, NOW)}`,
    ]);
    expect(err).toMatchObject({
      exitCode: 1,
      message: `the runners lock on pi1 (/run/pifleet/runners.lock) is still held after 1 s, by ${describeHolder(laptop, NOW)}`,
    });
    await first.release();
  });

  it("a waiting run gets the lock when the holder releases it", async () => {
    const first = await take(laptop, 5);
    const waits: string[] = [];
    const second = take(job, 10, waits);
    while (waits.length === 0) await new Promise((r) => setTimeout(r, 20));
    await first.release();
    const held = await second;
    expect(JSON.parse(await readFile(join(dir, "runners.holder"), "utf8"))).toEqual(job);
    await held.release();
  });

  it("a holder that dies (killed, connection gone) leaves no lock behind", async () => {
    const crashed = spawn("sh", ["-c", lockScript(5, dir)], { stdio: ["pipe", "pipe", "ignore"] });
    started.push(crashed);
    crashed.stdin.write(`${renderHolder(laptop)}\n`);
    await new Promise<void>((resolve) => crashed.stdout.on("data", (d: Buffer) => d.toString().includes("locked") && resolve()));
    crashed.kill("SIGKILL");
    await new Promise<void>((resolve) => crashed.on("close", () => resolve()));
    const waits: string[] = [];
    const held = await take(job, 5, waits);
    expect(waits).toEqual([]);
    await held.release();
  });
});
