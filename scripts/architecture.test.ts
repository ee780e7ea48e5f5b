import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * The import rules of docs/architecture.md, checked on every TypeScript file: a package's
 * own code imports only the packages drawn below it; its tests may also use the simulated
 * fleet (and counter-deploy's rollout tests the real Ansible, to configure that fleet).
 */

const ROOT = fileURLToPath(new URL("..", import.meta.url));

const MAY_IMPORT: Record<string, readonly string[]> = {
  fleet: [],
  io: ["fleet"],
  sim: ["fleet", "io"],
  pipelines: ["fleet", "io"],
  "ansible-bridge": ["fleet", "io"],
  "runner-manager": ["fleet", "io"],
  "counter-app/service": [],
  "counter-app/deploy": ["fleet", "io", "counter-service"],
  cli: ["fleet", "io", "sim", "pipelines", "ansible-bridge", "runner-manager", "counter-deploy"],
};

const TESTS_MAY_ALSO_IMPORT: Record<string, readonly string[]> = {
  pipelines: ["sim"],
  "ansible-bridge": ["sim"],
  "runner-manager": ["sim"],
  "counter-app/deploy": ["sim", "ansible-bridge"],
  cli: [],
};

const isTestCode = (file: string) => /\.(test|itest)\.ts$|\/test-support\/|\/bench\//.test(file);

async function typescriptFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith(".ts")).map((e) => join(e.parentPath, e.name));
}

/** Every `@pifleet/<name>` a file imports, statically or with import(). */
function pifleetImports(text: string): string[] {
  return [...text.matchAll(/(?:from\s+|import\s*\(\s*)["']@pifleet\/([a-z-]+)/g)].map((m) => m[1] as string);
}

describe("package boundaries (docs/architecture.md)", () => {
  it.each(Object.keys(MAY_IMPORT))("%s imports only what it may", async (pkg) => {
    const broken: string[] = [];
    for (const file of await typescriptFiles(join(ROOT, pkg, "src"))) {
      const allowed = new Set([...(MAY_IMPORT[pkg] ?? []), ...(isTestCode(file) ? (TESTS_MAY_ALSO_IMPORT[pkg] ?? []) : [])]);
      for (const imported of pifleetImports(await readFile(file, "utf8"))) {
        if (!allowed.has(imported)) broken.push(`${relative(ROOT, file)} imports @pifleet/${imported}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it("knows every workspace package", async () => {
    const manifest = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")) as { workspaces: string[] };
    expect([...manifest.workspaces].sort()).toEqual(Object.keys(MAY_IMPORT).sort());
  });
});
