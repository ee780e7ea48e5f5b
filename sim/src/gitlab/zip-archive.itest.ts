import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "@pifleet/io";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { zipArchive } from "./zip-archive.js";

// The archive is checked with Info-ZIP's unzip, the reader GitLab users reach for.
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "pifleet-zip-test-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("zipArchive", () => {
  it("writes an archive unzip lists, tests and extracts byte for byte, nested paths and UTF-8 names included", async () => {
    const binary = Buffer.from([0, 1, 2, 255, 254, 10, 13]);
    const zip = zipArchive(
      [
        { name: "observed.json", data: Buffer.from('{"runners":[]}\n') },
        { name: "reports/naïve plan.txt", data: Buffer.from("plan\n") },
        { name: "bin/blob", data: binary },
        { name: "empty", data: Buffer.alloc(0) },
      ],
      new Date("2026-11-24T12:34:56Z"),
    );
    const file = join(dir, "artifacts.zip");
    await writeFile(file, zip);
    const listed = await run("unzip", ["-Z1", file], { describe: "unzip -Z1" });
    expect(listed.stdout.trim().split("\n")).toEqual(["observed.json", "reports/naïve plan.txt", "bin/blob", "empty"]);
    const tested = await run("unzip", ["-t", file], { describe: "unzip -t" });
    expect(tested.stdout).toContain("No errors detected");
    expect((await run("unzip", ["-p", file, "observed.json"], { describe: "unzip -p" })).stdout).toBe('{"runners":[]}\n');
    const verbose = await run("unzip", ["-l", file], { describe: "unzip -l" });
    expect(verbose.stdout).toMatch(/2026-11-24 12:34/);
  });

  it("an empty list is a valid empty archive", async () => {
    const file = join(dir, "empty.zip");
    await writeFile(file, zipArchive([], new Date()));
    const listed = await run("unzip", ["-l", file], { describe: "unzip -l", allowFailure: true });
    expect(listed.stdout + listed.stderr).toMatch(/zipfile is empty|0 files/);
  });
});
