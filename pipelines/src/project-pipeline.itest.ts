import { appendFileSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { run } from "@pifleet/io";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyRepo } from "./test-support/repo-copy.js";

const ROOT = resolve(import.meta.dirname, "../..");
const GCL = join(ROOT, "node_modules/.bin/gitlab-ci-local");

/**
 * Runs jobs of the generated .gitlab-ci.yml for real with gitlab-ci-local
 * 4.73.0, every job in the shell (jobs name the pifleet image, which this
 * machine has no registry for; the checkout's node_modules stands in for the
 * image's). One job at a time: shell jobs share the working directory and
 * two `tsc -b` runs must not race. rules:changes count as true (the copy has
 * no origin to compare with). Always under `timeout -k`: gitlab-ci-local
 * spins forever on a needs cycle and ignores SIGTERM.
 */
async function gitlabCiLocal(cwd: string, jobs: string[], seconds: number): Promise<{ code: number; output: string }> {
  const args = [
    "-k",
    "10",
    String(seconds),
    GCL,
    "--force-shell-executor",
    "--no-evaluate-rule-changes",
    "--concurrency",
    "1",
    "--no-color",
    ...jobs,
  ];
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
    expect(output).toContain("node_modules: kept (already in the checkout)");
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
  const git = (...args: string[]) =>
    run("git", ["-C", dir, "-c", "user.email=pifleet@example.invalid", "-c", "user.name=pifleet test", ...args]);
  /** Commits one change, with origin/main at the commit before it (as the emulator sets it for an MR: the target branch). */
  async function changeOnly(path: string): Promise<void> {
    await git("update-ref", "refs/remotes/origin/main", "HEAD");
    mkdirSync(join(dir, dirname(path)), { recursive: true });
    appendFileSync(join(dir, path), "# changed\n");
    await git("add", "-A");
    await git("commit", "-qm", `change ${path}`);
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "pifleet-pipelines-rules-"));
    copyFileSync(join(ROOT, ".gitlab-ci.yml"), join(dir, ".gitlab-ci.yml"));
    await run("git", ["-C", dir, "init", "-q", "-b", "main"]);
    await git("add", "-A");
    await git("commit", "-qm", "pipeline");
    await changeOnly("fleet/src/schema.ts");
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

  const mergeRequest = { CI_PIPELINE_SOURCE: "merge_request_event", CI_MERGE_REQUEST_IID: "1", CI_COMMIT_BRANCH: "" };
  const verify = ["lint", "typecheck", "unit-tests", "pipeline-check", "fleet-validate"];
  const plans = ["configure-plan", "runners-plan", "app-plan", "plan-note"];

  it("a merge request pipeline that changes code verifies and plans, and changes nothing", async () => {
    expect(await jobsFor(mergeRequest)).toEqual([...verify, ...plans]);
  });

  it("a default-branch pipeline builds the pifleet image, configures, reconciles runners, builds once, deploys and checks", async () => {
    const jobs = await jobsFor({ CI_COMMIT_BRANCH: "main", CI_DEFAULT_BRANCH: "main" });
    expect(jobs).toEqual([
      "pifleet-image",
      ...verify,
      "configure",
      "runners-apply",
      "upgrade-pending",
      "build-image:arm64",
      "app-manifest",
      "deploy",
      "smoke-test",
      "fleet-observe",
    ]);
  });

  it("a tag pipeline builds the pifleet image, verifies and builds the app's images only", async () => {
    const jobs = await jobsFor({ CI_COMMIT_TAG: "v1.0.0", CI_COMMIT_BRANCH: "" });
    expect(jobs).toEqual(["pifleet-image", ...verify, "build-image:arm64", "app-manifest"]);
  });

  it("an MR that only changes the fleet file (and its known_hosts) skips lint, typecheck and unit tests", async () => {
    await changeOnly("fleet/sim/fleet.yaml");
    expect(await jobsFor(mergeRequest)).toEqual(["pipeline-check", "fleet-validate", ...plans]);
    await changeOnly("fleet/sim/known_hosts");
    expect(await jobsFor(mergeRequest)).toEqual(["pipeline-check", "fleet-validate", ...plans]);
    await changeOnly("docs/fleet-yaml.md");
    expect(await jobsFor(mergeRequest)).toEqual(["pipeline-check", "fleet-validate", ...plans]);
  });

  it("an MR that changes the lock file, a test fixture or the image's ignore list runs them", async () => {
    for (const path of ["package-lock.json", "examples/invalid/x.yaml", ".dockerignore", "counter-app/service/Dockerfile"]) {
      await changeOnly(path);
      expect(await jobsFor(mergeRequest), path).toEqual([...verify, ...plans]);
    }
  });
});
