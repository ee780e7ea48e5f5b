import { lstatSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "@pifleet/io";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GITLAB_CI_LOCAL, gitlabCiLocalEnv } from "../gitlab/ci-evaluate.js";
import { preparePipelineCheckout } from "./checkout.js";

// Real git and the real gitlab-ci-local (its rules:changes, read with --list-json); no Docker.
const CI_YAML = `docs:
  rules:
    - changes: [docs/**/*]
  script: [echo docs]
always:
  script: [echo always]
`;

let root = "";
let bare = "";
const shas: string[] = [];

async function commit(work: string, files: Record<string, string>, message: string): Promise<string> {
  for (const [path, text] of Object.entries(files)) {
    await run("mkdir", ["-p", join(work, path, "..")]);
    writeFileSync(join(work, path), text);
  }
  await run("git", ["-C", work, "add", "-A"]);
  await run("git", ["-C", work, "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-qm", message]);
  return (await run("git", ["-C", work, "rev-parse", "HEAD"])).stdout.trim();
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "pf-checkout-"));
  bare = join(root, "repositories", "pifleet", "infra.git");
  const work = join(root, "work");
  await run("git", ["init", "-q", "--bare", "--initial-branch=main", bare]);
  await run("git", ["init", "-q", "--initial-branch=main", work]);
  shas.push(await commit(work, { ".gitlab-ci.yml": CI_YAML, "README.md": "hi\n" }, "one"));
  shas.push(await commit(work, { "docs/guide.md": "guide\n" }, "two: docs"));
  shas.push(await commit(work, { "README.md": "hello\n" }, "three: no docs"));
  await run("git", ["-C", work, "push", "-q", bare, "main"]);
});

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

/** The jobs gitlab-ci-local would create in the checkout (when: never dropped). */
async function listed(dir: string, evaluateChanges: boolean): Promise<string[]> {
  const args = ["--list-json", ...(evaluateChanges ? [] : ["--no-evaluate-rule-changes"])];
  const out = await run(GITLAB_CI_LOCAL, args, { cwd: dir, env: gitlabCiLocalEnv(), timeoutMs: 60_000 });
  const jobs = JSON.parse(out.stdout.slice(out.stdout.indexOf("["))) as { name: string; when: string }[];
  return jobs.filter((j) => j.when !== "never").map((j) => j.name);
}

const git = async (dir: string, ...args: string[]) => (await run("git", ["-C", dir, ...args])).stdout.trim();

describe("preparePipelineCheckout", () => {
  it("checks the commit out and compares rules:changes against the given base, as GitLab does", async () => {
    const [one, two, three] = shas as [string, string, string];
    const docsChanged = await preparePipelineCheckout({
      repoDir: bare,
      sha: two,
      dir: join(root, "p", "1"),
      defaultBranch: "main",
      changesBase: one,
    });
    expect(docsChanged).toEqual({ dir: join(root, "p", "1"), sha: two, evaluateChanges: true, cacheDir: join(root, "p", "cache") });
    expect(await git(docsChanged.dir, "rev-parse", "HEAD")).toBe(two);
    expect(await git(docsChanged.dir, "rev-parse", "origin/main")).toBe(one);
    expect(await git(docsChanged.dir, "symbolic-ref", "--short", "refs/remotes/origin/HEAD")).toBe("origin/main");
    expect(await listed(docsChanged.dir, true)).toEqual(["docs", "always"]);

    const docsUnchanged = await preparePipelineCheckout({
      repoDir: bare,
      sha: three,
      dir: join(root, "p", "2"),
      defaultBranch: "main",
      changesBase: two,
    });
    expect(await listed(docsUnchanged.dir, true)).toEqual(["always"]);
  });

  it("says when there is nothing to compare against (a branch's first push): every rules:changes is true", async () => {
    const three = shas[2] as string;
    const first = await preparePipelineCheckout({ repoDir: bare, sha: three, dir: join(root, "p", "3"), defaultBranch: "main" });
    expect(first.evaluateChanges).toBe(false);
    expect(await listed(first.dir, first.evaluateChanges)).toEqual(["docs", "always"]);
  });

  it("has the project's shared cache dir next to the checkout, and the build copy ready", async () => {
    const one = shas[0] as string;
    const c = await preparePipelineCheckout({ repoDir: bare, sha: one, dir: join(root, "p", "4"), defaultBranch: "main" });
    expect(statSync(c.cacheDir).isDirectory()).toBe(true);
    // A real dir, not a link: gitlab-ci-local's `docker cp` of a job's cache refuses to write through one.
    expect(lstatSync(join(c.dir, ".gitlab-ci-local", "cache")).isDirectory()).toBe(true);
    expect(readFileSync(join(c.dir, ".gitlab-ci-local", "builds", ".docker", "README.md"), "utf8")).toBe("hi\n");
    // gitlab-ci-local reads the project's path from gcl-origin: CI_PROJECT_DIR becomes /builds/pifleet/infra.
    expect(await git(c.dir, "remote", "get-url", "gcl-origin")).toBe("http://gitlab.sim.invalid/pifleet/infra.git");
    // Nothing of ours shows as a change of the pipeline's files.
    expect(await git(c.dir, "status", "--porcelain")).toBe("");
  });

  it("returns the same checkout when called again, also side by side, and refuses another commit in the same dir", async () => {
    const [one, two] = shas as [string, string];
    const options = { repoDir: bare, sha: two, dir: join(root, "p", "5"), defaultBranch: "main", changesBase: one };
    const [a, b] = await Promise.all([preparePipelineCheckout(options), preparePipelineCheckout(options)]);
    expect(b).toEqual(a);
    writeFileSync(join(a.dir, ".gitlab-ci-local", "kept"), "x");
    expect(await preparePipelineCheckout(options)).toEqual(a);
    expect(readFileSync(join(a.dir, ".gitlab-ci-local", "kept"), "utf8")).toBe("x");
    await expect(preparePipelineCheckout({ ...options, sha: one })).rejects.toThrow(/already holds the checkout of/);
  });
});
