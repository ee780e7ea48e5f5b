import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GitClient, projectPathOf } from "./test-support/git-client.js";
import { call, control, mintToken, NEEDS_CONTROL, REAL_GITLAB, useContractTarget } from "./test-support/target.js";

// GitLab contract: git hosting over smart HTTP with token auth, the branches API and push events.
const { target } = useContractTarget();
let client: GitClient;
const BRANCH = `contract-git-${randomBytes(4).toString("hex")}`;
beforeAll(() => {
  client = new GitClient(target, projectPathOf(target));
});
afterAll(() => client?.cleanup());

type Event = {
  action_name: string;
  push_data: { action: string; ref: string; ref_type: string; commit_from: string | null; commit_to: string | null; commit_count: number };
};

describe("git over HTTP", () => {
  it("clones with a token, pushes the default branch and a new branch; the branches API and push events show them", async () => {
    const { dir, result } = await client.clone();
    expect(result.code, result.stderr).toBe(0);
    // An empty project clones too; a real one may already have history.
    const main = await client.commit(dir, `contract-${BRANCH}.txt`, "hello\n", `contract: ${BRANCH} on main`);
    const pushed = await client.git(dir, ["push", "--quiet", "origin", "HEAD:main"]);
    expect(pushed.code, pushed.stderr).toBe(0);

    const branch = await call(target, "GET", `/projects/${target.projectId}/repository/branches/main`);
    expect(branch.status).toBe(200);
    expect(branch.body).toMatchObject({
      name: "main",
      default: true,
      protected: true,
      merged: false,
      commit: { id: main, short_id: main.slice(0, 8), title: `contract: ${BRANCH} on main`, author_name: "Contract Test" },
    });

    await client.must(dir, ["checkout", "--quiet", "-b", BRANCH]);
    const side = await client.commit(dir, `contract-${BRANCH}.txt`, "hello from a branch\n", `contract: ${BRANCH}`);
    const pushedBranch = await client.git(dir, ["push", "--quiet", "origin", BRANCH]);
    expect(pushedBranch.code, pushedBranch.stderr).toBe(0);

    const list = await call(target, "GET", `/projects/${target.projectId}/repository/branches?search=${BRANCH}`);
    expect(list.status).toBe(200);
    expect(list.headers.get("x-total")).toBe("1");
    expect(list.body).toEqual([
      expect.objectContaining({
        name: BRANCH,
        default: false,
        merged: false,
        commit: expect.objectContaining({ id: side, parent_ids: [main] }),
      }),
    ]);

    const events = (await call(target, "GET", `/projects/${target.projectId}/events?action=pushed&per_page=20`)).body as Event[];
    const ours = events.filter((e) => e.push_data.commit_to === side || e.push_data.commit_to === main);
    expect(ours.map((e) => [e.push_data.ref, e.push_data.ref_type])).toEqual([
      [BRANCH, "branch"],
      ["main", "branch"],
    ]);
    expect(ours[0]).toMatchObject({ action_name: "pushed new", push_data: { action: "created", commit_from: null, commit_count: 1 } });

    // A second clone sees both branches, HEAD on the default branch.
    const again = await client.clone();
    expect(again.result.code, again.result.stderr).toBe(0);
    expect((await client.must(again.dir, ["rev-parse", "HEAD", `origin/${BRANCH}`])).stdout.trim().split("\n")).toEqual([main, side]);
    expect((await client.must(again.dir, ["branch", "--show-current"])).stdout.trim()).toBe("main");
  });

  it("any username goes with the token (oauth2, the user's name)", async () => {
    expect((await client.clone(target.token, "someone-else")).result.code).toBe(0);
  });

  it("the URL without .git works too", async () => {
    const dir = `${client.home}/no-suffix`;
    const cloned = await client.git(client.home, ["clone", "--quiet", `${target.url}/${client.projectPath}`, dir]);
    expect(cloned.code, cloned.stderr).toBe(0);
    expect((await client.must(dir, ["branch", "--show-current"])).stdout.trim()).toBe("main");
  });

  it("without credentials or with a wrong token: 401 with GitLab's Basic challenge, and git fails to authenticate", async () => {
    const refs = `${client.remote}/info/refs?service=git-upload-pack`;
    const anonymous = await fetch(refs);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toBe('Basic realm="GitLab"');
    const wrong = await fetch(refs, {
      headers: { authorization: `Basic ${Buffer.from("oauth2:glpat-wrongwrongwrongwrong").toString("base64")}` },
    });
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).toMatch(/^HTTP Basic: Access denied/);

    const cloned = await client.clone("glpat-wrongwrongwrongwrong");
    expect(cloned.result.code).not.toBe(0);
    expect(cloned.result.stderr).toMatch(/Authentication failed/);
    expect(cloned.result.stderr).not.toContain("glpat-wrong");
    const none = await client.clone(null);
    expect(none.result.code).not.toBe(0);
  });

  it("answers 404 for an unknown project once authenticated", async () => {
    const res = await fetch(`${target.url}/no-such-group/no-such-project.git/info/refs?service=git-upload-pack`, {
      headers: { authorization: `Basic ${Buffer.from(`oauth2:${target.token}`).toString("base64")}` },
    });
    expect(res.status).toBe(404);
  });

  it.skipIf(REAL_GITLAB)(`a read_repository token clones but cannot push (403); write_repository pushes${NEEDS_CONTROL}`, async () => {
    const reader = await mintToken(target, ["read_repository"]);
    const { dir, result } = await client.clone(reader);
    expect(result.code, result.stderr).toBe(0);
    await client.commit(dir, `reader-${BRANCH}.txt`, "x\n", "reader");
    const refused = await client.git(dir, ["push", "origin", `HEAD:${BRANCH}-reader`], reader);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/403/);
    const branches = (await call(target, "GET", `/projects/${target.projectId}/repository/branches?search=${BRANCH}-reader`)).body;
    expect(branches).toEqual([]);

    const writer = await mintToken(target, ["write_repository"]);
    const pushed = await client.git(dir, ["push", "--quiet", "origin", `HEAD:${BRANCH}-writer`], writer);
    expect(pushed.code, pushed.stderr).toBe(0);

    const userOnly = await mintToken(target, ["read_user"]);
    const forbidden = await fetch(`${client.remote}/info/refs?service=git-upload-pack`, {
      headers: { authorization: `Basic ${Buffer.from(`oauth2:${userOnly}`).toString("base64")}` },
    });
    expect(forbidden.status).toBe(403);
    expect(await forbidden.text()).toBe("You are not allowed to download code from this project.");
  });

  it.skipIf(REAL_GITLAB)(
    `roles: a Reporter clones but cannot push; a Developer pushes a branch but not the protected default branch; a Maintainer does${NEEDS_CONTROL}`,
    async () => {
      const member = async (access_level: number) =>
        ((await control(target, "POST", "/tokens", { scopes: ["api"], access_level })) as { token: string }).token;
      const developer = await member(30);
      const { dir, result } = await client.clone(developer);
      expect(result.code, result.stderr).toBe(0);
      await client.commit(dir, `roles-${BRANCH}.txt`, "x\n", "roles");

      const reporter = await client.git(dir, ["push", "origin", `HEAD:${BRANCH}-reporter`], await member(20));
      expect(reporter.code).not.toBe(0);
      expect(reporter.stderr).toMatch(/403/);
      const branch = await client.git(dir, ["push", "--quiet", "origin", `HEAD:${BRANCH}-developer`], developer);
      expect(branch.code, branch.stderr).toBe(0);
      const main = await client.git(dir, ["push", "origin", "HEAD:main"], developer);
      expect(main.code).not.toBe(0);
      expect(main.stderr).toContain("GitLab: You are not allowed to push code to protected branches on this project.");
      expect(main.stderr).toMatch(/\[remote rejected\] HEAD -> main \(pre-receive hook declined\)/);
      const head = (await call(target, "GET", `/projects/${target.projectId}/repository/branches/main`)).body as { commit: { id: string } };
      const mine = (await client.must(dir, ["rev-parse", "HEAD"])).stdout.trim();
      expect(head.commit.id).not.toBe(mine);
      const maintainer = await client.git(dir, ["push", "--quiet", "origin", "HEAD:main"], await member(40));
      expect(maintainer.code, maintainer.stderr).toBe(0);
      expect(
        ((await call(target, "GET", `/projects/${target.projectId}/repository/branches/main`)).body as { commit: { id: string } }).commit
          .id,
      ).toBe(mine);
      const stranger = await client.clone(
        ((await control(target, "POST", "/tokens", { scopes: ["api"], admin: false })) as { token: string }).token,
      );
      expect(stranger.result.code).not.toBe(0);
    },
  );

  it("GET an unknown branch: 404 Branch Not Found", async () => {
    expect(await call(target, "GET", `/projects/${target.projectId}/repository/branches/no-such-branch-${BRANCH}`)).toMatchObject({
      status: 404,
      body: { message: "404 Branch Not Found" },
    });
  });
});
