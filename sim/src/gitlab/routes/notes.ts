import { type Request, type Response, Router } from "express";
import { hasRole, MAINTAINER, REPORTER } from "../access.js";
import { allowScopes } from "../auth.js";
import { caller, type Emulator } from "../context.js";
import { badRequest, forbidden, notFound } from "../errors.js";
import { enumParam, readParams, requireParam, stringParam } from "../params.js";
import { presentNote } from "../present.js";
import { sendPage } from "../send-page.js";
import type { SimMergeRequest, SimNote } from "../state.js";
import { memberProject } from "./project-access.js";

const MAX_NOTE_LENGTH = 1_000_000;

/**
 * Note validation, answered as GitLab's notes API does: bad_request! with the Ruby inspection of
 * the errors hash, "Note {:note=>[...]}" on create and "Failed to save note {...}" on update.
 */
function validateBody(body: string, prefix: "Note" | "Failed to save note"): void {
  const problem =
    body.trim().length === 0
      ? "can't be blank"
      : body.length > MAX_NOTE_LENGTH
        ? `is too long (maximum is ${MAX_NOTE_LENGTH} characters)`
        : undefined;
  if (problem) throw badRequest(`${prefix} {:note=>[${JSON.stringify(problem)}]}`);
}

/**
 * Merge-request notes: list, get one, create, update. Reading and commenting need read_merge_request and
 * create_note on a private project: the Reporter role (a Guest gets 403, a non-member 404). A note is
 * updated by its author or a Maintainer (admin_note), anyone else gets 403.
 */
export function notesRouter(emu: Emulator): Router {
  const r = Router();

  const mergeRequest = (req: Request, res: Response): SimMergeRequest => {
    const project = memberProject(emu, req, res, REPORTER);
    const mr = emu.state.mergeRequests.find((m) => m.project_id === project.id && String(m.iid) === req.params.iid);
    // find_noteable: not_found!(MergeRequest) → "404 MergeRequest Not Found".
    if (!mr) throw notFound("MergeRequest");
    return mr;
  };

  r.get("/projects/:id/merge_requests/:iid/notes", allowScopes(), (req, res) => {
    const p = readParams(req);
    const orderBy = enumParam(p, "order_by", ["created_at", "updated_at"] as const) ?? "created_at";
    const sort = enumParam(p, "sort", ["asc", "desc"] as const) ?? "desc";
    const mr = mergeRequest(req, res);
    const key = (n: SimNote) => `${orderBy === "created_at" ? n.created_at : n.updated_at}#${String(n.id).padStart(12, "0")}`;
    const notes = emu.state.notes
      .filter((n) => n.mr_id === mr.id)
      .sort((a, b) => (sort === "asc" ? key(a).localeCompare(key(b)) : key(b).localeCompare(key(a))));
    sendPage(req, res, p, notes, (n) => presentNote(n, emu.state, emu.baseUrl()));
  });

  r.post("/projects/:id/merge_requests/:iid/notes", allowScopes(), (req, res) => {
    const body = requireParam(stringParam(readParams(req), "body"), "body");
    const mr = mergeRequest(req, res);
    validateBody(body, "Note");
    const at = emu.now().toISOString();
    const note: SimNote = {
      id: emu.state.nextId.note++,
      project_id: mr.project_id,
      mr_id: mr.id,
      mr_iid: mr.iid,
      body,
      author_id: caller(res).user.id,
      created_at: at,
      updated_at: at,
    };
    emu.state.notes.push(note);
    emu.save();
    res.status(201).json(presentNote(note, emu.state, emu.baseUrl()));
  });

  /** noteable.notes.find raises RecordNotFound, which GitLab answers with the generic 404. */
  const findNote = (mr: SimMergeRequest, id: unknown): SimNote => {
    const note = emu.state.notes.find((n) => n.mr_id === mr.id && String(n.id) === String(id));
    if (!note) throw notFound();
    return note;
  };

  r.get("/projects/:id/merge_requests/:iid/notes/:note_id", allowScopes(), (req, res) => {
    const note = findNote(mergeRequest(req, res), req.params.note_id);
    res.json(presentNote(note, emu.state, emu.baseUrl()));
  });

  r.put("/projects/:id/merge_requests/:iid/notes/:note_id", allowScopes(), (req, res) => {
    const body = requireParam(stringParam(readParams(req), "body"), "body");
    const mr = mergeRequest(req, res);
    const note = findNote(mr, req.params.note_id);
    const { user } = caller(res);
    if (note.author_id !== user.id && !hasRole(emu.state, user, mr.project_id, MAINTAINER)) throw forbidden();
    validateBody(body, "Failed to save note");
    note.body = body;
    note.updated_at = emu.now().toISOString();
    emu.save();
    res.json(presentNote(note, emu.state, emu.baseUrl()));
  });

  return r;
}
