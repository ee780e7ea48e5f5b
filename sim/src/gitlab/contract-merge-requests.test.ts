import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GitClient, projectPathOf } from "./test-support/git-client.js";
import { call, useContractTarget } from "./test-support/target.js";

// GitLab contract: merge requests (create, get, list, update, merge) on branches pushed with real git.
const { target } = useContractTarget();
let client: GitClient;
let dir: string;
let base: string;
const RUN = randomBytes(4).toString("hex");
const FEATURE = `contract-mr-${RUN}`;
const CONFLICT = `contract-mr-conflict-${RUN}`;
const FILE = `contract-mr-${RUN}.txt`;

type Mr = {
  id: number;
  iid: number;
  project_id: number;
  state: string;
  sha: string | null;
  merge_commit_sha: string | null;
  merged_at: string | null;
  source_branch: string;
  target_branch: string;
  has_conflicts: boolean;
  detailed_merge_status: string;
};

/** Pushes a branch from main with one commit changing FILE to `content`; returns its head. */
async function pushBranch(branch: string, content: string): Promise<string> {
  await client.must(dir, ["checkout", "--quiet", "-B", branch, "origin/main"]);
  const sha = await client.commit(dir, FILE, content, `contract: ${branch}`);
  await client.must(dir, ["push", "--quiet", "--force", "origin", branch]);
  return sha;
}

beforeAll(async () => {
  client = new GitClient(target, projectPathOf(target));
  base = `/projects/${target.projectId}/merge_requests`;
  const cloned = await client.clone();
  if (cloned.result.code !== 0) throw new Error(`clone failed: ${cloned.result.stderr}`);
  dir = cloned.dir;
  await client.commit(dir, FILE, "base\n", `contract: base for ${RUN}`);
  await client.must(dir, ["push", "--quiet", "origin", "HEAD:main"]);
  await client.must(dir, ["fetch", "--quiet", "origin"]);
});
afterAll(() => client?.cleanup());

describe("merge requests", () => {
  let mr: Mr;
  let featureSha: string;

  it("POST creates one (201) with GitLab's fields: opened, mergeable, sha = the source branch's head", async () => {
    featureSha = await pushBranch(FEATURE, "feature\n");
    const created = await call(target, "POST", base, {
      body: { source_branch: FEATURE, target_branch: "main", title: `Contract ${RUN}`, description: "adds a line" },
    });
    expect(created.status).toBe(201);
    // Exactly GitLab's header: python-gitlab compares it with == "application/json".
    expect(created.headers.get("content-type")).toBe("application/json");
    expect(created.body).toMatchObject({
      iid: expect.any(Number),
      project_id: target.projectId,
      title: `Contract ${RUN}`,
      description: "adds a line",
      state: "opened",
      source_branch: FEATURE,
      target_branch: "main",
      sha: featureSha,
      merge_commit_sha: null,
      merged_at: null,
      has_conflicts: false,
      author: expect.objectContaining({ id: expect.any(Number), username: expect.any(String) }),
      web_url: expect.stringMatching(/\/-\/merge_requests\/\d+$/),
      references: expect.objectContaining({ short: expect.stringMatching(/^!\d+$/) }),
    });
    mr = created.body as Mr;
  });

  it("GET returns it by iid; an unknown iid is 404", async () => {
    expect(await call(target, "GET", `${base}/${mr.iid}`)).toMatchObject({
      status: 200,
      body: { id: mr.id, iid: mr.iid, sha: featureSha },
    });
    expect(await call(target, "GET", `${base}/99999999`)).toMatchObject({ status: 404, body: { message: "404 Not found" } });
  });

  it("lists with the state and source_branch filters, paginated", async () => {
    const opened = await call(target, "GET", `${base}?state=opened&source_branch=${FEATURE}`);
    expect(opened.status).toBe(200);
    expect((opened.body as Mr[]).map((m) => m.iid)).toEqual([mr.iid]);
    expect(opened.headers.get("x-total")).toBe("1");
    const merged = await call(target, "GET", `${base}?state=merged&source_branch=${FEATURE}`);
    expect(merged.body).toEqual([]);
    const page = await call(target, "GET", `${base}?per_page=1`);
    expect(page.body).toHaveLength(1);
    expect(page.headers.get("x-per-page")).toBe("1");
    expect(await call(target, "GET", `${base}?state=bogus`)).toMatchObject({
      status: 400,
      body: { error: "state does not have a valid value" },
    });
  });

  it("refuses bad creates: missing parameters (400), same branch (422), unknown branch (400), a second open MR (409)", async () => {
    expect(await call(target, "POST", base, { body: { title: "x" } })).toMatchObject({
      status: 400,
      body: { error: "source_branch is missing, target_branch is missing" },
    });
    expect(await call(target, "POST", base, { body: { title: "x", source_branch: FEATURE, target_branch: FEATURE } })).toMatchObject({
      status: 422,
      body: { message: ["You can't use same project/branch for source and target"] },
    });
    expect(await call(target, "POST", base, { body: { title: "x", source_branch: `nope-${RUN}`, target_branch: "main" } })).toMatchObject({
      status: 400,
      body: { message: { source_branch: ["does not exist"] } },
    });
    expect(await call(target, "POST", base, { body: { title: "again", source_branch: FEATURE, target_branch: "main" } })).toMatchObject({
      status: 409,
      body: { message: [`Another open merge request already exists for this source branch: !${mr.iid}`] },
    });
  });

  it("PUT …/merge with a stale sha is 409 and merges nothing", async () => {
    const stale = await call(target, "PUT", `${base}/${mr.iid}/merge`, { body: { sha: "0".repeat(40) } });
    expect(stale).toMatchObject({ status: 409, body: { message: `SHA does not match HEAD of source branch: ${featureSha}` } });
    expect((await call(target, "GET", `${base}/${mr.iid}`)).body).toMatchObject({ state: "opened" });
  });

  it("PUT …/merge makes a merge commit on the target: state merged, merge_commit_sha = main's new head, a push event on main", async () => {
    const mainBefore = (
      (await call(target, "GET", `/projects/${target.projectId}/repository/branches/main`)).body as { commit: { id: string } }
    ).commit.id;
    const merged = await call(target, "PUT", `${base}/${mr.iid}/merge`, { body: { sha: featureSha } });
    expect(merged.status).toBe(200);
    expect(merged.body).toMatchObject({
      iid: mr.iid,
      state: "merged",
      merged_at: expect.any(String),
      merge_commit_sha: expect.stringMatching(/^[0-9a-f]{40}$/),
    });
    const sha = (merged.body as Mr).merge_commit_sha;
    const main = (await call(target, "GET", `/projects/${target.projectId}/repository/branches/main`)).body as {
      commit: { id: string; parent_ids: string[]; title: string };
    };
    expect(main.commit).toMatchObject({ id: sha, parent_ids: [mainBefore, featureSha], title: `Merge branch '${FEATURE}' into 'main'` });
    const feature = (await call(target, "GET", `/projects/${target.projectId}/repository/branches/${FEATURE}`)).body;
    expect(feature).toMatchObject({ merged: true });

    const events = (await call(target, "GET", `/projects/${target.projectId}/events?action=pushed&per_page=5`)).body as {
      push_data: { ref: string; commit_from: string; commit_to: string };
    }[];
    expect(events[0]?.push_data).toMatchObject({ ref: "main", commit_from: mainBefore, commit_to: sha });

    // The merge is in the repository: a fetch brings it.
    await client.must(dir, ["fetch", "--quiet", "origin"]);
    expect((await client.must(dir, ["rev-parse", "origin/main"])).stdout.trim()).toBe(sha);
    expect((await call(target, "GET", `${base}?state=merged&source_branch=${FEATURE}`)).body).toEqual([
      expect.objectContaining({ iid: mr.iid, state: "merged" }),
    ]);
  });

  it("merging a merged MR again is 405 Method Not Allowed", async () => {
    expect(await call(target, "PUT", `${base}/${mr.iid}/merge`)).toMatchObject({
      status: 405,
      body: { message: "405 Method Not Allowed" },
    });
  });

  it("a conflicting MR shows has_conflicts and its merge is refused (406 Branch cannot be merged, per the API docs)", async () => {
    // Branched from main before the merge above, changing the same line differently.
    await client.must(dir, ["checkout", "--quiet", "-B", CONFLICT, `origin/main~1`]);
    await client.commit(dir, FILE, "conflicting\n", `contract: ${CONFLICT}`);
    await client.must(dir, ["push", "--quiet", "origin", CONFLICT]);
    const created = await call(target, "POST", base, {
      body: { source_branch: CONFLICT, target_branch: "main", title: `Conflict ${RUN}` },
    });
    expect(created.status).toBe(201);
    const conflicting = created.body as Mr;
    expect(conflicting).toMatchObject({ has_conflicts: true, detailed_merge_status: "conflict" });
    const refused = await call(target, "PUT", `${base}/${conflicting.iid}/merge`);
    // GitLab's docs list 406 for conflicts; GitLab releases since ~15.x answer 405 or 422 (gitlab-org/gitlab#364102).
    expect(target.real ? [405, 406, 422] : [406]).toContain(refused.status);
    expect((await call(target, "GET", `${base}/${conflicting.iid}`)).body).toMatchObject({ state: "opened", merge_commit_sha: null });
  });

  it("PUT updates the title and closes and reopens an open MR; closing a merged one changes nothing", async () => {
    const created = await call(target, "POST", base, {
      body: { source_branch: CONFLICT, target_branch: "main", title: `Close ${RUN}` },
    });
    // The conflicting MR above is still open for these branches.
    expect(created.status).toBe(409);
    const open = (await call(target, "GET", `${base}?state=opened&source_branch=${CONFLICT}`)).body as Mr[];
    expect(open).toHaveLength(1);
    const iid = open[0]?.iid;
    const renamed = await call(target, "PUT", `${base}/${iid}`, { body: { title: `Renamed ${RUN}` } });
    expect(renamed).toMatchObject({ status: 200, body: { title: `Renamed ${RUN}`, state: "opened" } });
    const closed = await call(target, "PUT", `${base}/${iid}`, { body: { state_event: "close" } });
    expect(closed).toMatchObject({ status: 200, body: { state: "closed" } });
    expect((closed.body as { closed_at: string | null }).closed_at).toEqual(expect.any(String));
    expect((closed.body as { closed_by: { id: number } | null }).closed_by).toEqual(expect.objectContaining({ id: expect.any(Number) }));
    const listed = (await call(target, "GET", `${base}?state=closed&source_branch=${CONFLICT}`)).body as Mr[];
    expect(listed.map((m) => m.iid)).toEqual([iid]);
    expect(await call(target, "PUT", `${base}/${iid}`, { body: { state_event: "reopen" } })).toMatchObject({
      status: 200,
      body: { state: "opened", closed_at: null },
    });
    expect(await call(target, "PUT", `${base}/${mr.iid}`, { body: { state_event: "close" } })).toMatchObject({
      status: 200,
      body: { state: "merged" },
    });
  });

  it("PUT refuses an update with no parameter (400, every updatable one named) and an unknown state_event (400)", async () => {
    const none = await call(target, "PUT", `${base}/${mr.iid}`, { body: {} });
    expect(none.status).toBe(400);
    expect((none.body as { error: string }).error).toMatch(/state_event.*are missing, at least one parameter must be provided/);
    expect(await call(target, "PUT", `${base}/${mr.iid}`, { body: { state_event: "shut" } })).toMatchObject({
      status: 400,
      body: { error: "state_event does not have a valid value" },
    });
  });

  it("answers 404 Project Not Found for an unknown project", async () => {
    expect(await call(target, "GET", "/projects/999999999/merge_requests")).toMatchObject({
      status: 404,
      body: { message: "404 Project Not Found" },
    });
  });
});
