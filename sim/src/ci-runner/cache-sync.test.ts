import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cacheIntoCheckout, cacheOutOfCheckout } from "./cache-sync.js";

const root = mkdtempSync(join(tmpdir(), "pf-cache-sync-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("cache sync between the project's cache dir and a checkout", () => {
  it("brings earlier pipelines' caches in, and the job's caches back out for later pipelines", async () => {
    const checkout = join(root, "pipelines", "7");
    mkdirSync(join(root, "pipelines", "cache", "npm"), { recursive: true });
    writeFileSync(join(root, "pipelines", "cache", "npm", "old.txt"), "from pipeline 6\n");
    mkdirSync(join(checkout, ".gitlab-ci-local"), { recursive: true });
    await cacheIntoCheckout(checkout);
    expect(readFileSync(join(checkout, ".gitlab-ci-local", "cache", "npm", "old.txt"), "utf8")).toBe("from pipeline 6\n");
    mkdirSync(join(checkout, ".gitlab-ci-local", "cache", "apt"));
    writeFileSync(join(checkout, ".gitlab-ci-local", "cache", "apt", "new.txt"), "from pipeline 7\n");
    await cacheOutOfCheckout(checkout);
    expect(readFileSync(join(root, "pipelines", "cache", "apt", "new.txt"), "utf8")).toBe("from pipeline 7\n");
    expect(readFileSync(join(root, "pipelines", "cache", "npm", "old.txt"), "utf8")).toBe("from pipeline 6\n");
  });
});
