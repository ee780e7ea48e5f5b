import { Router } from "express";
import { GUEST, REPORTER } from "../access.js";
import { allowScopes } from "../auth.js";
import type { Emulator } from "../context.js";
import { notFound } from "../errors.js";
import { enumParam, readParams, stringParam } from "../params.js";
import { presentUserBasic } from "../present.js";
import {
  type BranchInfo,
  branchesMergedInto,
  type CommitInfo,
  defaultBranch,
  existingRepository,
  listBranches,
  pathWithNamespace,
  ZERO_SHA,
} from "../repository.js";
import { sendPage } from "../send-page.js";
import type { SimProject, SimPushEvent } from "../state.js";
import { memberProject } from "./project-access.js";

/** Entities::Commit. */
export function presentCommit(c: CommitInfo, projectUrl: string) {
  return {
    id: c.id,
    short_id: c.id.slice(0, 8),
    created_at: c.committed_date,
    parent_ids: c.parent_ids,
    title: c.title,
    message: c.message,
    author_name: c.author_name,
    author_email: c.author_email,
    authored_date: c.authored_date,
    committer_name: c.committer_name,
    committer_email: c.committer_email,
    committed_date: c.committed_date,
    trailers: {},
    extended_trailers: {},
    web_url: `${projectUrl}/-/commit/${c.id}`,
  };
}

/**
 * Repository branches (doc/api/branches.md) read from the bare repository, and the project's push
 * events (doc/api/events.md, action "pushed") recorded by git-http.ts and merges.
 */
export function repositoryRouter(emu: Emulator): Router {
  const r = Router();
  const projectUrl = (project: SimProject) => `${emu.baseUrl()}/${pathWithNamespace(emu, project)}`;

  /** Entities::Branch: the default branch is protected, as GitLab protects it on creation. */
  const presentBranch = (project: SimProject, b: BranchInfo, merged: Set<string>) => {
    const isDefault = b.name === defaultBranch(project);
    return {
      name: b.name,
      commit: presentCommit(b.commit, projectUrl(project)),
      merged: !isDefault && merged.has(b.name),
      protected: isDefault,
      developers_can_push: false,
      developers_can_merge: false,
      can_push: true,
      default: isDefault,
      web_url: `${projectUrl(project)}/-/tree/${b.name}`,
    };
  };

  const branchesOf = async (project: SimProject) => {
    const dir = existingRepository(emu, project);
    if (!dir) return { branches: [] as BranchInfo[], merged: new Set<string>() };
    return { branches: await listBranches(dir), merged: await branchesMergedInto(dir, defaultBranch(project)) };
  };

  // Branches need download_code (Reporter); the project's events, read_project (Guest).
  r.get("/projects/:id/repository/branches", allowScopes(), async (req, res) => {
    const p = readParams(req);
    const search = stringParam(p, "search");
    const sort = enumParam(p, "sort", ["name_asc", "updated_asc", "updated_desc"] as const) ?? "name_asc";
    const project = memberProject(emu, req, res, REPORTER);
    const { branches, merged } = await branchesOf(project);
    const matching = branches.filter((b) => matchesSearch(b.name, search));
    if (sort !== "name_asc") {
      const sign = sort === "updated_asc" ? 1 : -1;
      matching.sort((a, b) => sign * (Date.parse(a.commit.committed_date) - Date.parse(b.commit.committed_date)));
    }
    sendPage(req, res, p, matching, (b) => presentBranch(project, b, merged));
  });

  r.get("/projects/:id/repository/branches/:branch", allowScopes(), async (req, res) => {
    const project = memberProject(emu, req, res, REPORTER);
    const { branches, merged } = await branchesOf(project);
    const branch = branches.find((b) => b.name === req.params.branch);
    if (!branch) throw notFound("Branch");
    res.json(presentBranch(project, branch, merged));
  });

  r.get("/projects/:id/events", allowScopes(), (req, res) => {
    const p = readParams(req);
    const action = stringParam(p, "action");
    const sort = enumParam(p, "sort", ["asc", "desc"] as const) ?? "desc";
    const project = memberProject(emu, req, res, GUEST);
    const events = (emu.state.pushEvents ?? [])
      .filter((e) => e.project_id === project.id && (action === undefined || action === "pushed"))
      .sort((a, b) => (sort === "asc" ? a.id - b.id : b.id - a.id));
    sendPage(req, res, p, events, (e) => presentPushEvent(emu, e));
  });

  return r;
}

/** GitLab's branch search: a substring, or anchored with ^ (prefix) and $ (suffix). */
function matchesSearch(name: string, search: string | undefined): boolean {
  if (!search) return true;
  const prefix = search.startsWith("^");
  const suffix = search.endsWith("$");
  const needle = search.slice(prefix ? 1 : 0, suffix ? -1 : undefined).toLowerCase();
  const n = name.toLowerCase();
  if (prefix && suffix) return n === needle;
  if (prefix) return n.startsWith(needle);
  if (suffix) return n.endsWith(needle);
  return n.includes(needle);
}

/** Entities::Event for a push, with push_data (PushEventPayload). */
function presentPushEvent(emu: Emulator, e: SimPushEvent) {
  const author = emu.state.users.find((u) => u.id === e.user_id);
  const created = e.before === ZERO_SHA;
  const removed = e.after === ZERO_SHA;
  const tag = e.ref.startsWith("refs/tags/");
  return {
    id: e.id,
    project_id: e.project_id,
    action_name: created ? "pushed new" : removed ? "deleted" : "pushed to",
    target_id: null,
    target_iid: null,
    target_type: null,
    author_id: e.user_id,
    target_title: null,
    created_at: e.created_at,
    author: author ? presentUserBasic(author, emu.baseUrl()) : null,
    imported: false,
    imported_from: "none",
    push_data: {
      commit_count: e.total_commits_count,
      action: created ? "created" : removed ? "removed" : "pushed",
      ref_type: tag ? "tag" : "branch",
      commit_from: created ? null : e.before,
      commit_to: removed ? null : e.after,
      ref: e.ref.replace(/^refs\/(heads|tags)\//, ""),
      commit_title: null,
      ref_count: null,
    },
    author_username: e.user_username,
  };
}
