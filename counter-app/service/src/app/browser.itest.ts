import { mkdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "../test-support/harness.js";

/** The browser's own global, called inside the page; this program's lib is Node's, without the DOM's. */
declare function getComputedStyle(element: unknown): { fontSize: string };

/** Kept as a test artifact (test-results/ is git-ignored and collected by CI). */
const ARTIFACTS = fileURLToPath(new URL("../../../../test-results/counter-app/", import.meta.url));

let h: Harness;
let browser: Browser;

beforeAll(async () => {
  h = await startHarness({ NODE_NAME: "pi-browser" });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
});

afterAll(async () => {
  await browser?.close();
  await h?.stop();
});

describe("the counter page in headless Chromium", () => {
  it("shows the count, the serving node and a bar per node, with no CSP violation", async () => {
    const page = await browser.newPage({ viewport: { width: 800, height: 600 } });
    const problems: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error" || m.type() === "warning") problems.push(m.text());
    });
    page.on("pageerror", (e) => problems.push(e.message));

    const first = await page.goto(`${h.base}/`);
    expect(first?.status()).toBe(200);
    const before = Number(await page.locator("#views").textContent());
    await page.reload();
    const after = Number(await page.locator("#views").textContent());
    expect(after).toBe(before + 1);
    expect(await page.locator("#node").textContent()).toBe("pi-browser");
    expect(await page.locator("#replica").textContent()).toBe("r1");
    const bar = page.locator('#nodes-chart g[data-node="pi-browser"] rect');
    expect(await bar.getAttribute("class")).toBe("bar served");
    const box = await bar.boundingBox();
    expect(box?.width ?? 0).toBeGreaterThan(100);
    // The stylesheet applied (its CSP hash matched): the count is rendered large.
    const fontSize = await page.locator("#views").evaluate((el) => getComputedStyle(el).fontSize);
    expect(fontSize).toBe("48px");
    expect(problems).toEqual([]);

    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: `${ARTIFACTS}counter-page.png`, fullPage: true });
    await page.close();
  });
});
