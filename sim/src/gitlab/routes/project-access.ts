import type { Request, Response } from "express";
import { caller, type Emulator } from "../context.js";
import { notFound, paramError } from "../errors.js";
import { findProject } from "../lookup.js";
import type { SimProject } from "../state.js";

/**
 * The project of a /projects/:id/… request, for a member. The sim's projects are private and only
 * the admin is a member, so anyone else gets 404 "Project Not Found", as a non-member does in GitLab.
 */
export function memberProject(emu: Emulator, req: Request, res: Response): SimProject {
  const found = findProject(emu, req.params.id);
  if (!caller(res).user.is_admin) throw notFound("Project");
  return found;
}

/** A record of the request's project by a Grape Integer path parameter; a missing one is RecordNotFound's generic 404. */
export function projectRecord<T extends { id: number; project_id: number }>(
  emu: Emulator,
  req: Request,
  res: Response,
  param: string,
  records: readonly T[],
): T {
  const raw = String(req.params[param]);
  if (!/^\d+$/.test(raw)) throw paramError(`${param} is invalid`);
  const project = memberProject(emu, req, res);
  const found = records.find((x) => x.id === Number(raw) && x.project_id === project.id);
  if (!found) throw notFound();
  return found;
}
