import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { run } from "@pifleet/io";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

// `npm ci` is what CI systems and most users run; it refuses a lock file that no longer matches
// the package.json files, or that lacks another platform's optional packages (biome's binaries).
// --dry-run checks exactly that, installs nothing and needs no network.
describe("package-lock.json", () => {
  it("is accepted by npm ci as it stands", async () => {
    const result = await run("npm", ["ci", "--dry-run", "--ignore-scripts", "--no-audit", "--no-fund"], {
      cwd: ROOT,
      allowFailure: true,
      timeoutMs: 120_000,
    });
    expect(
      result.stderr.split("\n").filter((l) => l.includes("npm error")),
      result.stderr,
    ).toEqual([]);
    expect(result.code).toBe(0);
  });

  it("holds the optional packages of platforms other than this one", async () => {
    const lock = JSON.parse(await readFile(`${ROOT}/package-lock.json`, "utf8")) as { packages: Record<string, unknown> };
    const biomeBinaries = Object.keys(lock.packages).filter((k) => k.startsWith("node_modules/@biomejs/cli-"));
    expect(biomeBinaries).toEqual(
      expect.arrayContaining(["node_modules/@biomejs/cli-darwin-arm64", "node_modules/@biomejs/cli-win32-x64"]),
    );
  });
});
