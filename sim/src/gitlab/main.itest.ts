import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { run } from "@pifleet/io";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// The emulator as its own process, as `sim up` starts it: node sim/dist/gitlab/main.js --host --port --state.
const MAIN = fileURLToPath(new URL("../../dist/gitlab/main.js", import.meta.url));
const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const stateDir = mkdtempSync(join(tmpdir(), "pifleet-gitlab-main-"));
let child: ChildProcess | undefined;

beforeAll(async () => {
  // main.js is built output; build it (a no-op when up to date) so the test runs what `sim up` runs.
  await run("npx", ["--no-install", "tsc", "-b", "sim"], { cwd: ROOT, describe: "building sim (tsc -b sim)" });
}, 120_000);
afterAll(() => {
  if (child?.exitCode === null) child.kill("SIGKILL");
  rmSync(stateDir, { recursive: true, force: true });
});

function firstLine(proc: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    proc.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const nl = out.indexOf("\n");
      if (nl >= 0) resolve(out.slice(0, nl));
    });
    proc.once("exit", (code) => reject(new Error(`main.js exited with ${code} before printing its line`)));
  });
}

describe("sim/dist/gitlab/main.js", () => {
  it("prints one JSON line, writes the 0600 token file, serves /api/v4 and exits 0 on SIGTERM", async () => {
    child = spawn(process.execPath, [MAIN, "--host", "127.0.0.1", "--port", "0", "--state", stateDir], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const line = JSON.parse(await firstLine(child)) as { url: string; pid: number; projectId: number; groupId: number };
    expect(line).toEqual({ url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/), pid: child.pid, projectId: 1, groupId: 1 });

    const tokenFile = join(stateDir, "gitlab-token");
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    const token = readFileSync(tokenFile, "utf8").trim();
    const user = await fetch(`${line.url}/api/v4/user`, { headers: { "PRIVATE-TOKEN": token } });
    expect(user.status).toBe(200);

    // A second emulator on the same state dir is refused with exit code 3 (environment).
    let second = 0;
    try {
      execFileSync(process.execPath, [MAIN, "--state", stateDir], { stdio: "pipe" });
    } catch (err) {
      second = (err as { status: number }).status;
    }
    expect(second).toBe(3);

    const exited = new Promise<number | null>((resolve) => child?.once("exit", (code) => resolve(code)));
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    await expect(fetch(`${line.url}/api/v4/version`)).rejects.toThrow();
  });

  it("refuses bad arguments with exit code 2", () => {
    const exitCodeOf = (args: string[]) => {
      try {
        execFileSync(process.execPath, [MAIN, ...args], { stdio: "pipe" });
        return 0;
      } catch (err) {
        return (err as { status: number }).status;
      }
    };
    expect(exitCodeOf(["--port", "70000", "--state", stateDir])).toBe(2);
    expect(exitCodeOf(["--port", "0"])).toBe(2);
    expect(exitCodeOf(["--bogus"])).toBe(2);
  });
});
