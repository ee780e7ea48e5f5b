import { appendFileSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { run } from "@pifleet/io";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyRepo } from "./test-support/repo-copy.js";

const ROOT = resolve(import.meta.dirname, "../..");
const GCL = join(ROOT, "node_modules/.bin/gitlab-ci-local");

/**
 * Runs jobs of the generated .gitlab-ci.yml for real with gitlab-ci-local
 * 4.73.0, every job in the shell (jobs name node:20-bookworm, which cannot be
 * pulled here). One job at a time: shell jobs share the working directory and
 * two `tsc -b` runs must not race. Always under `timeout -k`: gitlab-ci-local
 * spins forever on a needs cycle and ignores SIGTERM.
 */
async function gitlabCiLocal(cwd: string, jobs: string[], seconds: number): Promise<{ code: number; output: string }> {
  const args = ["-k", "10", String(seconds), GCL, "--force-shell-executor", "--concurrency", "1", "--no-color", ...jobs];
  const { code, stdout, stderr } = await run("timeout", args, { cwd, env: { ...process.env, CI: "" }, allowFailure: true });
  return { code, output: stdout + stderr };
}

describe("the generated pipeline's verify jobs under gitlab-ci-local", () => {
  let dir = "";
  beforeAll(async () => {
    dir = await copyRepo(ROOT);
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("runs lint, typecheck, pipeline-check and unit-tests, and they pass", async () => {
    // ~2.3 min here when the machine is quiet, ~4.5 min at load 12; the bound leaves room for a busy 2-core machine.
    const { code, output } = await gitlabCiLocal(dir, ["lint", "typecheck", "pipeline-check", "unit-tests"], 420);
    if (code !== 0) console.error(output.slice(-6000));
    expect(code).toBe(0);
    for (const name of ["lint", "typecheck", "pipeline-check", "unit-tests"]) expect(output).toMatch(new RegExp(`PASS\\s+${name}\\b`));
    expect(output).toContain(".gitlab-ci.yml: up to date with the generator");
    // The junit report the pipeline declares is really written.
    const junit = readFileSync(join(dir, "test-results/junit.xml"), "utf8");
    expect(junit).toMatch(/<testsuites[^>]*tests="[1-9]/);
  }, 450_000);

  it("pipeline-check fails once the committed file is edited by hand", async () => {
    appendFileSync(join(dir, ".gitlab-ci.yml"), "# edited by hand\n");
    await run("git", ["-C", dir, "commit", "-qam", "hand edit"]);
    const { code, output } = await gitlabCiLocal(dir, ["pipeline-check"], 90);
    expect(code).toBe(1);
    expect(output).toMatch(/FAIL\s+pipeline-check/);
    expect(output).toContain(".gitlab-ci.yml differs from what the code generates");
    expect(existsSync(join(dir, ".gitlab-ci-local"))).toBe(true);
  }, 120_000);
});

describe("which jobs each kind of pipeline gets, by gitlab-ci-local's own rules evaluation", () => {
  let dir = "";
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "pifleet-pipelines-rules-"));
    copyFileSync(join(ROOT, ".gitlab-ci.yml"), join(dir, ".gitlab-ci.yml"));
    await run("git", ["-C", dir, "init", "-q", "-b", "main"]);
    await run("git", ["-C", dir, "add", "-A"]);
    await run("git", ["-C", dir, "-c", "user.email=pifleet@example.invalid", "-c", "user.name=pifleet test", "commit", "-qm", "pipeline"]);
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** The jobs gitlab-ci-local would run with these predefined variables. */
  async function jobsFor(variables: Record<string, string>): Promise<string[]> {
    const names = Object.keys(variables);
    const args = ["-k", "5", "60", GCL, "--list-json", "--ignore-predefined-vars", names.join(",")];
    for (const [k, v] of Object.entries(variables)) args.push("--variable", `${k}=${v}`);
    const { stdout } = await run("timeout", args, { cwd: dir });
    const list = JSON.parse(stdout.slice(stdout.indexOf("["))) as Array<{ name: string; when: string }>;
    return list.filter((j) => j.when !== "never").map((j) => j.name);
  }

  const verify = ["lint", "typecheck", "unit-tests", "pipeline-check", "fleet-validate"];

  it("a merge request pipeline verifies and plans, and changes nothing", async () => {
    const jobs = await jobsFor({ CI_PIPELINE_SOURCE: "merge_request_event", CI_MERGE_REQUEST_IID: "1", CI_COMMIT_BRANCH: "" });
    expect(jobs).toEqual([...verify, "configure-plan", "runners-plan", "app-plan", "plan-note"]);
  });

  it("a default-branch pipeline configures, reconciles runners, builds, deploys and checks every node", async () => {
    const jobs = await jobsFor({ CI_COMMIT_BRANCH: "main", CI_DEFAULT_BRANCH: "main" });
    expect(jobs).toEqual([
      ...verify,
      "configure",
      "runners-apply",
      "build-image: [arm64]",
      "build-image: [amd64]",
      "deploy-production",
      "smoke-test",
      ...["pi1", "pi2", "pi3", "pi4"].flatMap((n) => [`ready:${n}`, `counts:${n}`]),
    ]);
  });

  it("a tag pipeline verifies and builds the images only", async () => {
    const jobs = await jobsFor({ CI_COMMIT_TAG: "v1.0.0", CI_COMMIT_BRANCH: "" });
    expect(jobs).toEqual([...verify, "build-image: [arm64]", "build-image: [amd64]"]);
  });
});
