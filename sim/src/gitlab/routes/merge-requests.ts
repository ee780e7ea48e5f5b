import { type Request, type Response, Router } from "express";
import { DEVELOPER, hasRole, MAINTAINER, REPORTER } from "../access.js";
import { allowScopes } from "../auth.js";
import { caller, type Emulator } from "../context.js";
import { ApiError, notFound, paramError, unauthorized, validationError } from "../errors.js";
import { pageRequest, paginate } from "../pagination.js";
import { boolParam, enumParam, readParams, stringParam } from "../params.js";
import { triggerForMergeRequest, triggerForPushes } from "../pipeline-triggers.js";
import { presentUserBasic } from "../present.js";
import {
  branchHead,
  canMerge,
  defaultBranch,
  deleteBranch,
  ensureRepository,
  existingRepository,
  mergeCommit,
  pathWithNamespace,
  recordPushes,
  serialized,
  ZERO_SHA,
} from "../repository.js";
import type { SimMergeRequest, SimProject } from "../state.js";
import { memberProject } from "./project-access.js";

type MrState = NonNullable<SimMergeRequest["state"]>;

/** API::MergeRequests.update_params_at_least_one_of, in GitLab's order. */
const UPDATE_PARAMS = [
  "assignee_id",
  "assignee_ids",
  "reviewer_ids",
  "description",
  "labels",
  "add_labels",
  "remove_labels",
  "milestone_id",
  "milestone",
  "remove_source_branch",
  "allow_collaboration",
  "allow_maintainer_to_push",
  "squash",
  "target_branch",
  "title",
  "state_event",
  "discussion_locked",
  "merge_after",
] as const;

/** What a merge request looks like in the repository right now. */
interface Live {
  sha: string | null;
  targetSha: string | null;
  conflicts: boolean;
}

/**
 * Merge requests (doc/api/merge_requests.md): create, list, get, update (title, description, target
 * branch, close/reopen), merge. The MRs seeded or made by the
 * control API before this existed have no branches; they read as open MRs whose source branch is gone.
 */
export function mergeRequestsRouter(emu: Emulator): Router {
  const r = Router();

  // read_merge_request: Reporter; create_merge_request_in: Developer; merging is checked on the MR (below).
  const visibleProject = (req: Request, res: Response, role = REPORTER): SimProject => memberProject(emu, req, res, role);

  const findMr = (project: SimProject, iid: unknown): SimMergeRequest => {
    const mr = emu.state.mergeRequests.find((m) => m.project_id === project.id && String(m.iid) === String(iid));
    // find_merge_request_with_access → find_by! → RecordNotFound → the generic 404.
    if (!mr) throw notFound();
    return mr;
  };

  const live = async (project: SimProject, mr: SimMergeRequest): Promise<Live> => {
    const dir = existingRepository(emu, project);
    const target = mr.target_branch ?? defaultBranch(project);
    const targetSha = (await branchHead(dir, target)) ?? null;
    if (stateOf(mr) === "merged") return { sha: mr.merged_sha ?? null, targetSha, conflicts: false };
    const sha = mr.source_branch ? ((await branchHead(dir, mr.source_branch)) ?? null) : null;
    const conflicts = Boolean(dir && sha && targetSha && stateOf(mr) === "opened" && !(await canMerge(dir, targetSha, sha)));
    return { sha, targetSha, conflicts };
  };

  const present = async (project: SimProject, mr: SimMergeRequest, detail: boolean) =>
    presentMergeRequest(emu, project, mr, await live(project, mr), detail);

  r.get("/projects/:id/merge_requests", allowScopes(), async (req, res) => {
    const p = readParams(req);
    const state = enumParam(p, "state", ["opened", "closed", "locked", "merged", "all"] as const) ?? "all";
    const orderBy = enumParam(p, "order_by", ["created_at", "updated_at", "title", "merged_at"] as const) ?? "created_at";
    const sort = enumParam(p, "sort", ["asc", "desc"] as const) ?? "desc";
    const sourceBranch = stringParam(p, "source_branch");
    const targetBranch = stringParam(p, "target_branch");
    const project = visibleProject(req, res);
    const key = (m: SimMergeRequest) => `${String(m[orderBy] ?? "")}#${String(m.id).padStart(12, "0")}`;
    const all = emu.state.mergeRequests
      .filter((m) => m.project_id === project.id)
      .filter((m) => state === "all" || stateOf(m) === state)
      .filter((m) => sourceBranch === undefined || m.source_branch === sourceBranch)
      .filter((m) => targetBranch === undefined || (m.target_branch ?? defaultBranch(project)) === targetBranch)
      .sort((a, b) => (sort === "asc" ? key(a).localeCompare(key(b)) : key(b).localeCompare(key(a))));
    // Live git facts (sha, conflicts) are read for the page sent only.
    const url = new URL(`${req.protocol}://${req.get("host") ?? "localhost"}${req.originalUrl}`);
    const page = paginate(all, pageRequest(p), url);
    const items = [];
    for (const m of page.items) items.push(await present(project, m, false));
    res.set(page.headers).json(items);
  });

  r.get("/projects/:id/merge_requests/:iid", allowScopes(), async (req, res) => {
    const project = visibleProject(req, res);
    res.json(await present(project, findMr(project, req.params.iid), true));
  });

  r.post("/projects/:id/merge_requests", allowScopes(), async (req, res) => {
    const p = readParams(req);
    const title = stringParam(p, "title");
    const source = stringParam(p, "source_branch");
    const target = stringParam(p, "target_branch");
    // Grape lists every missing required parameter, in declaration order.
    const missing = [
      ["title", title],
      ["source_branch", source],
      ["target_branch", target],
    ].filter(([, v]) => v === undefined);
    if (missing.length > 0) throw paramError(missing.map(([name]) => `${name} is missing`).join(", "));
    const description = stringParam(p, "description") ?? "";
    const project = visibleProject(req, res, DEVELOPER);
    if (title === undefined || source === undefined || target === undefined) throw new Error("unreachable");
    if (source === target) throw new ApiError(422, { message: ["You can't use same project/branch for source and target"] });
    const dir = existingRepository(emu, project);
    const invalid: Record<string, string[]> = {};
    if (!(await branchHead(dir, source))) invalid.source_branch = ["does not exist"];
    if (!(await branchHead(dir, target))) invalid.target_branch = ["does not exist"];
    if (Object.keys(invalid).length > 0) throw validationError(invalid);
    const open = emu.state.mergeRequests.find(
      (m) => m.project_id === project.id && stateOf(m) === "opened" && m.source_branch === source && m.target_branch === target,
    );
    if (open) throw new ApiError(409, { message: [`Another open merge request already exists for this source branch: !${open.iid}`] });
    const at = emu.now().toISOString();
    const mr: SimMergeRequest = {
      id: emu.state.nextId.mergeRequest++,
      project_id: project.id,
      iid: Math.max(0, ...emu.state.mergeRequests.filter((m) => m.project_id === project.id).map((m) => m.iid)) + 1,
      title,
      description,
      source_branch: source,
      target_branch: target,
      state: "opened",
      author_id: caller(res).user.id,
      created_at: at,
      updated_at: at,
      merged_at: null,
      merged_by_id: null,
      merge_commit_sha: null,
      merged_sha: null,
    };
    emu.state.mergeRequests.push(mr);
    emu.save();
    // Opening an MR runs its merge-request pipeline on the source branch's head (evaluated after this answers).
    const head = await branchHead(dir, source);
    if (head) triggerForMergeRequest(emu, project, mr, head, caller(res).user.id);
    res.status(201).json(await present(project, mr, true));
  });

  r.put("/projects/:id/merge_requests/:iid", allowScopes(), async (req, res) => {
    const p = readParams(req);
    // Grape's at_least_one_of: every updatable parameter is named when none is given.
    if (!UPDATE_PARAMS.some((name) => p[name] !== undefined))
      throw paramError(`${UPDATE_PARAMS.join(", ")} are missing, at least one parameter must be provided`);
    const stateEvent = enumParam(p, "state_event", ["close", "reopen"] as const);
    const title = stringParam(p, "title");
    const description = stringParam(p, "description");
    const targetBranch = stringParam(p, "target_branch");
    // update_merge_request: Developer (the project's 404 first for non-members, as user_project answers).
    const project = visibleProject(req, res, DEVELOPER);
    const mr = findMr(project, req.params.iid);
    if (targetBranch !== undefined && !(await branchHead(existingRepository(emu, project), targetBranch)))
      throw validationError({ target_branch: ["does not exist"] });
    const at = emu.now().toISOString();
    // The state machine ignores events that do not apply (closing a merged MR changes nothing).
    if (stateEvent === "close" && stateOf(mr) === "opened")
      Object.assign(mr, { state: "closed", closed_at: at, closed_by_id: caller(res).user.id });
    if (stateEvent === "reopen" && stateOf(mr) === "closed") Object.assign(mr, { state: "opened", closed_at: null, closed_by_id: null });
    Object.assign(mr, {
      ...(title !== undefined ? { title } : {}),
      ...(description !== undefined ? { description } : {}),
      ...(targetBranch !== undefined ? { target_branch: targetBranch } : {}),
      updated_at: at,
    });
    emu.save();
    res.json(await present(project, mr, true));
  });

  r.put("/projects/:id/merge_requests/:iid/merge", allowScopes(), async (req, res) => {
    const p = readParams(req);
    const expectedSha = stringParam(p, "sha");
    const message = stringParam(p, "merge_commit_message");
    const removeSource = boolParam(p, "should_remove_source_branch") ?? false;
    const project = visibleProject(req, res);
    const mr = findMr(project, req.params.iid);
    const user = caller(res).user;
    // can_be_merged_by?: Developer, Maintainer into a protected branch (the default branch is); else 401, as GitLab answers.
    const protectedTarget = (mr.target_branch ?? defaultBranch(project)) === defaultBranch(project);
    if (!hasRole(emu.state, user, project.id, protectedTarget ? MAINTAINER : DEVELOPER)) throw unauthorized();
    const dir = await ensureRepository(emu, project);
    await serialized(dir, async () => {
      const now = live(project, mr);
      const { sha, targetSha } = await now;
      // mergeable_state?: open, both branches there → else 405 Method Not Allowed.
      if (stateOf(mr) !== "opened" || !sha || !targetSha || !mr.source_branch)
        throw new ApiError(405, { message: "405 Method Not Allowed" });
      if (expectedSha !== undefined && expectedSha !== sha) {
        throw new ApiError(409, { message: `SHA does not match HEAD of source branch: ${sha}` });
      }
      const targetBranch = mr.target_branch ?? defaultBranch(project);
      const text =
        message ??
        `Merge branch '${mr.source_branch}' into '${targetBranch}'\n\n${mr.title}\n\nSee merge request ${pathWithNamespace(emu, project)}!${mr.iid}`;
      const merged = await mergeCommit(dir, targetBranch, targetSha, sha, text, user, emu.now());
      // mergeable? (no conflicts) → else 406 Branch cannot be merged, as doc/api/merge_requests.md lists it.
      if (merged.kind !== "merged") throw new ApiError(406, { message: "Branch cannot be merged" });
      const at = emu.now().toISOString();
      Object.assign(mr, {
        state: "merged",
        merged_at: at,
        updated_at: at,
        merged_by_id: user.id,
        merge_commit_sha: merged.sha,
        merged_sha: sha,
      });
      const before = new Map([[`refs/heads/${targetBranch}`, merged.before]]);
      const after = new Map([[`refs/heads/${targetBranch}`, merged.sha]]);
      if (removeSource && (await deleteBranch(dir, mr.source_branch, sha))) {
        before.set(`refs/heads/${mr.source_branch}`, sha);
        after.set(`refs/heads/${mr.source_branch}`, ZERO_SHA);
      }
      const events = await recordPushes(emu, project, user, dir, before, after);
      emu.save();
      triggerForPushes(emu, project, events);
    });
    res.json(await present(project, mr, true));
  });

  return r;
}

export const stateOf = (mr: SimMergeRequest): MrState => mr.state ?? "opened";

/** Entities::MergeRequestBasic, plus Entities::MergeRequest's fields when `detail` (single MR answers). */
export function presentMergeRequest(emu: Emulator, project: SimProject, mr: SimMergeRequest, live: Live, detail: boolean) {
  const base = emu.baseUrl();
  const full = pathWithNamespace(emu, project);
  const user = (id: number | null | undefined) => {
    const u = id === null || id === undefined ? undefined : emu.state.users.find((x) => x.id === id);
    return u ? presentUserBasic(u, base) : null;
  };
  const state = stateOf(mr);
  const created = mr.created_at ?? emu.state.users[0]?.created_at ?? null;
  const mergeable = state === "opened" && live.sha !== null && live.targetSha !== null && !live.conflicts;
  const detailed =
    state !== "opened"
      ? "not_open"
      : live.conflicts
        ? "conflict"
        : live.sha === null || live.targetSha === null
          ? "broken_status"
          : "mergeable";
  const basic = {
    id: mr.id,
    iid: mr.iid,
    project_id: mr.project_id,
    title: mr.title,
    description: mr.description ?? "",
    state,
    created_at: created,
    updated_at: mr.updated_at ?? created,
    merged_by: user(mr.merged_by_id),
    merge_user: user(mr.merged_by_id),
    merged_at: mr.merged_at ?? null,
    closed_by: user(mr.closed_by_id),
    closed_at: mr.closed_at ?? null,
    target_branch: mr.target_branch ?? defaultBranch(project),
    source_branch: mr.source_branch ?? "",
    user_notes_count: emu.state.notes.filter((n) => n.mr_id === mr.id).length,
    upvotes: 0,
    downvotes: 0,
    author: user(mr.author_id ?? emu.state.users.find((u) => u.is_admin)?.id),
    assignees: [],
    assignee: null,
    reviewers: [],
    source_project_id: mr.project_id,
    target_project_id: mr.project_id,
    labels: [],
    draft: false,
    work_in_progress: false,
    milestone: null,
    merge_when_pipeline_succeeds: false,
    merge_status: state !== "opened" ? "can_be_merged" : mergeable ? "can_be_merged" : "cannot_be_merged",
    detailed_merge_status: detailed,
    sha: live.sha,
    merge_commit_sha: mr.merge_commit_sha ?? null,
    squash_commit_sha: null,
    discussion_locked: null,
    should_remove_source_branch: null,
    force_remove_source_branch: false,
    prepared_at: created,
    reference: `!${mr.iid}`,
    references: { short: `!${mr.iid}`, relative: `!${mr.iid}`, full: `${full}!${mr.iid}` },
    web_url: `${base}/${full}/-/merge_requests/${mr.iid}`,
    time_stats: { time_estimate: 0, total_time_spent: 0, human_time_estimate: null, human_total_time_spent: null },
    squash: false,
    squash_on_merge: false,
    task_completion_status: { count: 0, completed_count: 0 },
    has_conflicts: live.conflicts,
    blocking_discussions_resolved: true,
  };
  if (!detail) return basic;
  return {
    ...basic,
    subscribed: false,
    changes_count: null,
    latest_build_started_at: null,
    latest_build_finished_at: null,
    first_deployed_to_production_at: null,
    pipeline: null,
    head_pipeline: null,
    diff_refs: live.sha && live.targetSha ? { base_sha: live.targetSha, head_sha: live.sha, start_sha: live.targetSha } : null,
    merge_error: null,
    first_contribution: false,
    user: { can_merge: true },
  };
}
