import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Gitlab } from "@gitbeaker/rest";
import { run } from "@pifleet/io";
import { afterEach, describe, expect, it } from "vitest";
import { type GitlabEmulator, startGitlabEmulator } from "./index.js";
import { STATE_FILE } from "./persistence.js";
import type { SimState } from "./state.js";
import { GitClient } from "./test-support/git-client.js";
import type { Target } from "./test-support/target.js";

// The emulator's git hosting beyond the GitLab contract: where repositories live, restarts, big pushes, gitbeaker.
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function emulator(stateDir?: string): Promise<{ gl: GitlabEmulator; target: Target; client: GitClient }> {
  const gl = await startGitlabEmulator({ host: "127.0.0.1", port: 0, stateDir });
  const target: Target = { ...gl, token: gl.adminToken, mrIid: 1, real: false };
  const client = new GitClient(target, "pifleet/infra");
  let closed = false;
  cleanups.push(async () => {
    client.cleanup();
    if (!closed) await gl.close();
  });
  return {
    gl: {
      ...gl,
      close: async () => {
        closed = true;
        await gl.close();
      },
    },
    target,
    client,
  };
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "pifleet-git-hosting-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe("git hosting in the emulator", () => {
  it("keeps the repository and its push events in the state dir across a restart", async () => {
    const stateDir = tempDir();
    const first = await emulator(stateDir);
    const { dir } = await first.client.clone();
    const sha = await first.client.commit(dir, "a.txt", "a\n", "first");
    await first.client.must(dir, ["push", "--quiet", "origin", "HEAD:main"]);
    expect(existsSync(join(stateDir, "repositories", "pifleet", "infra.git", "HEAD"))).toBe(true);
    const saved = JSON.parse(readFileSync(join(stateDir, STATE_FILE), "utf8")) as SimState;
    expect(saved.pushEvents).toEqual([
      expect.objectContaining({
        object_kind: "push",
        ref: "refs/heads/main",
        before: "0".repeat(40),
        after: sha,
        checkout_sha: sha,
        user_username: "root",
        project_id: first.gl.projectId,
        total_commits_count: 1,
      }),
    ]);
    await first.gl.close();

    const second = await emulator(stateDir);
    const again = await second.client.clone();
    expect(again.result.code, again.result.stderr).toBe(0);
    expect((await second.client.must(again.dir, ["rev-parse", "HEAD"])).stdout.trim()).toBe(sha);
  });

  it("without a state dir, the repositories live in a temporary dir that close() removes", async () => {
    const { gl, client } = await emulator();
    const { dir } = await client.clone();
    const sha = await client.commit(dir, "a.txt", randomBytes(16).toString("hex"), "first");
    await client.must(dir, ["push", "--quiet", "origin", "HEAD:main"]);
    expect(await rootsHolding(sha)).toHaveLength(1);
    await gl.close();
    expect(await rootsHolding(sha)).toEqual([]);
  });

  it("streams a large push and its clone (16 MiB of incompressible data)", async () => {
    const { client } = await emulator();
    const { dir } = await client.clone();
    writeFileSync(join(dir, "big.bin"), randomBytes(16 * 1024 * 1024));
    await client.must(dir, ["add", "big.bin"]);
    await client.must(dir, ["commit", "--quiet", "-m", "big"]);
    const pushed = await client.git(dir, ["push", "--quiet", "origin", "HEAD:main"]);
    expect(pushed.code, pushed.stderr).toBe(0);
    const again = await client.clone();
    expect(again.result.code, again.result.stderr).toBe(0);
    expect(readFileSync(join(again.dir, "big.bin")).equals(readFileSync(join(dir, "big.bin")))).toBe(true);
  });

  it("@gitbeaker/rest creates, shows, lists and accepts a merge request; Branches.show sees the merge", async () => {
    const { target, client } = await emulator();
    const { dir } = await client.clone();
    await client.commit(dir, "a.txt", "a\n", "base");
    await client.must(dir, ["push", "--quiet", "origin", "HEAD:main"]);
    await client.must(dir, ["checkout", "--quiet", "-b", "feature"]);
    const head = await client.commit(dir, "b.txt", "b\n", "feature");
    await client.must(dir, ["push", "--quiet", "origin", "feature"]);

    const api = new Gitlab({ host: target.url, token: target.token });
    const mr = await api.MergeRequests.create(target.projectId, "feature", "main", "Add b", { description: "b" });
    expect(mr).toMatchObject({ state: "opened", sha: head, source_branch: "feature" });
    expect((await api.MergeRequests.show(target.projectId, mr.iid)).title).toBe("Add b");
    expect((await api.MergeRequests.all({ projectId: target.projectId, state: "opened" })).map((m) => m.iid)).toContain(mr.iid);
    const merged = await api.MergeRequests.accept(target.projectId, mr.iid, { sha: head, shouldRemoveSourceBranch: true });
    expect(merged).toMatchObject({ state: "merged" });
    const main = await api.Branches.show(target.projectId, "main");
    expect(main.commit.id).toBe(merged.merge_commit_sha);
    expect((await api.Branches.all(target.projectId)).map((b) => b.name)).toEqual(["main"]);
  });
});

/** The emulator's temporary repository roots (other tests' emulators may have some too) whose repository has `sha`. */
async function rootsHolding(sha: string): Promise<string[]> {
  const roots = readdirSync(tmpdir())
    .filter((name) => name.startsWith("pifleet-gitlab-repos-"))
    .map((name) => join(tmpdir(), name, "pifleet", "infra.git"));
  const holding: string[] = [];
  for (const repo of roots) {
    if (!existsSync(repo)) continue;
    const r = await run("git", ["--git-dir", repo, "cat-file", "-e", `${sha}^{commit}`], { allowFailure: true });
    if (r.code === 0) holding.push(repo);
  }
  return holding;
}
