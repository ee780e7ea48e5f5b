import type { Request, Response } from "express";
import { projectAccess } from "../access.js";
import { caller, type Emulator } from "../context.js";
import { forbidden, notFound, paramError } from "../errors.js";
import { findProject } from "../lookup.js";
import type { SimProject } from "../state.js";

/**
 * The project of a /projects/:id/… request, for a caller holding at least `role` there (access.ts).
 * The sim's projects are private: a non-member gets 404 "Project Not Found" (find_project!), a
 * member with a lower role 403 "403 Forbidden" (authorize!), as GitLab answers.
 */
export function memberProject(emu: Emulator, req: Request, res: Response, role: number): SimProject {
  const found = findProject(emu, req.params.id);
  const access = projectAccess(emu.state, caller(res).user, found, role);
  if (access === "not_found") throw notFound("Project");
  if (access === "forbidden") throw forbidden();
  return found;
}

/** A record of the request's project by a Grape Integer path parameter; a missing one is RecordNotFound's generic 404. */
export function projectRecord<T extends { id: number; project_id: number }>(
  emu: Emulator,
  req: Request,
  res: Response,
  param: string,
  records: readonly T[],
  role: number,
): T {
  const raw = String(req.params[param]);
  if (!/^\d+$/.test(raw)) throw paramError(`${param} is invalid`);
  const project = memberProject(emu, req, res, role);
  const found = records.find((x) => x.id === Number(raw) && x.project_id === project.id);
  if (!found) throw notFound();
  return found;
}
