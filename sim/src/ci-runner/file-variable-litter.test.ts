import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { sweepFileVariableLitter } from "./file-variable-litter.js";

const dir = mkdtempSync(join(tmpdir(), "pf-litter-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function litter(name: string, ageMs: number, now: number): void {
  const path = join(dir, name);
  mkdirSync(path);
  writeFileSync(join(path, "SSH_KEY"), "secret");
  const at = (now - ageMs) / 1000;
  utimesSync(path, at, at);
}

describe("sweepFileVariableLitter", () => {
  it("removes only gitlab-ci-local's abandoned `undefined` dirs older than the given age", async () => {
    const now = Date.now();
    litter("gitlab-ci-local-file-variables-undefined-123456", 120_000, now);
    litter("gitlab-ci-local-file-variables-undefined-654321", 5_000, now);
    litter("gitlab-ci-local-file-variables-pifleet-infra-111111", 120_000, now);
    litter("something-else", 120_000, now);
    expect(await sweepFileVariableLitter(60_000, now, dir)).toBe(1);
    expect(readdirSync(dir).sort()).toEqual([
      "gitlab-ci-local-file-variables-pifleet-infra-111111",
      "gitlab-ci-local-file-variables-undefined-654321",
      "something-else",
    ]);
  });
});
