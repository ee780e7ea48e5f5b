import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "../test-support/run-cli.js";

/**
 * The files that carry images between pipeline jobs are checked before anything
 * is contacted. The fleet named here does not exist: a command that read it (or
 * went on to a node) before refusing the file would fail differently.
 */
const dir = mkdtempSync(join(tmpdir(), "pifleet-cli-app-"));
const NO_FLEET = join(dir, "no-fleet.yaml");
const PREFIX = "198.19.255.11:5000/pifleet";
const DIGEST = `sha256:${"a".repeat(64)}`;

function file(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content));
  return path;
}

const report = (arch: string) => ({
  arch,
  images: Object.fromEntries(["app", "loadBalancer"].map((k) => [k, { ref: `${PREFIX}/counter-${k}:aaa-${arch}`, digest: DIGEST }])),
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("pifleet app with images files (the binary)", () => {
  it("deploy --images refuses a ref without a digest, exit 2, naming the file and the key, before the fleet is read", () => {
    const images = file("unpinned.json", {
      app: `${PREFIX}/counter:aaa`,
      loadBalancer: `${PREFIX}/l:c@${DIGEST}`,
    });
    const r = runCli(["app", "deploy", "--images", images, "--fleet", NO_FLEET]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${images} is not an images file: app is "${PREFIX}/counter:aaa", not REF@sha256:<64 hex>`);
    expect(r.stderr).not.toContain("no-fleet.yaml");
  });

  it("plan --images: a missing file and a file that is not JSON are bad input", () => {
    const missing = runCli(["app", "plan", "--images", join(dir, "nope.json"), "--fleet", NO_FLEET]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("cannot read the images file");
    const garbled = runCli(["app", "plan", "--images", file("garbled.json", "{app:"), "--fleet", NO_FLEET]);
    expect(garbled.code).toBe(2);
    expect(garbled.stderr).toMatch(/garbled\.json is not JSON/);
  });

  it("--images with --arch is refused by the parser", () => {
    const r = runCli(["app", "deploy", "--images", file("any.json", {}), "--arch", "amd64", "--fleet", NO_FLEET]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--images .* cannot be used with option '--arch/);
  });

  it("manifest refuses two reports of one architecture and a malformed report, exit 2, before calling docker", () => {
    const twice = runCli(["app", "manifest", file("a.json", report("amd64")), file("b.json", report("amd64"))], { unset: ["PATH"] });
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain("two build reports for amd64");
    const bad = runCli(["app", "manifest", file("c.json", { arch: "amd64", images: {} })], { unset: ["PATH"] });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("images.app.ref is missing");
  });
});
