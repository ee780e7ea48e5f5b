import { describe, expect, it } from "vitest";
import { runnerContext } from "./context.js";
import type { LockRequest } from "./ssh-runners-lock.js";
import { testFleet } from "./test-support/fleet-fixture.js";
import { MemoryGitlab } from "./test-support/memory-gitlab.js";
import { MemoryNodes } from "./test-support/memory-nodes.js";
import { thisRun, withRunnersLock } from "./with-lock.js";

/** withRunnersLock around a change, with a recording lock in place of the SSH one (that is runners-lock.test.ts and runners.itest.ts). */

function recordingLock(waitFor?: string) {
  const events: string[] = [];
  const ctx = {
    ...runnerContext(testFleet(), new MemoryGitlab(), new MemoryNodes()),
    lock: async (request: LockRequest) => {
      events.push(`take ${request.holder.command} ${request.timeoutSec}s`);
      if (waitFor) request.onWait?.(waitFor);
      return { release: async () => void events.push("release") };
    },
  };
  return { ctx, events };
}

describe("withRunnersLock", () => {
  it("holds the lock for the whole change and releases it after, also when the change fails", async () => {
    const { ctx, events } = recordingLock();
    const options = { command: "pifleet runners apply", timeoutMs: 90_000, log: (m: string) => events.push(m) };
    expect(await withRunnersLock(ctx, options, async () => events.push("change") && "done")).toBe("done");
    await expect(
      withRunnersLock(ctx, options, async () => {
        events.push("failing change");
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(events).toEqual([
      "take pifleet runners apply 90s",
      "change",
      "release",
      "take pifleet runners apply 90s",
      "failing change",
      "release",
    ]);
  });

  it("says when it waited and when it got the lock", async () => {
    const { ctx, events } = recordingLock("waiting up to 90 s for the runners lock on pi1 …");
    await withRunnersLock(ctx, { command: "pifleet runners rotate", timeoutMs: 90_000, log: (m) => events.push(m) }, async () => {});
    expect(events[1]).toBe("waiting up to 90 s for the runners lock on pi1 …");
    expect(events[2]).toMatch(/^took the runners lock after \d+\.\d s$/);
  });

  it("names this run without a token: host, pid, command, start, and the CI job when there is one", () => {
    const now = new Date("2026-11-25T07:00:00Z");
    const env = { CI_JOB_URL: "https://gitlab.example/p/-/jobs/9", GITLAB_TOKEN: "glpat-secretsecretsecret" };
    const holder = thisRun("pifleet runners apply", env, now);
    expect(holder).toMatchObject({ pid: process.pid, command: "pifleet runners apply", since: now.toISOString(), job: env.CI_JOB_URL });
    expect(JSON.stringify(holder)).not.toContain("glpat-");
    expect(thisRun("pifleet runners apply", {}, now)).not.toHaveProperty("job");
  });
});
