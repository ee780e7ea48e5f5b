import type { Emulator } from "./context.js";
import { notFound, paramError } from "./errors.js";
import type { SimGroup, SimProject, SimRunner } from "./state.js";

/** Groups and projects are addressed by id or by URL-encoded path ("pifleet/infra"), as in GitLab. */
export function findGroup(emu: Emulator, idOrPathParam: unknown): SimGroup {
  const idOrPath = String(idOrPathParam);
  const group = emu.state.groups.find((g) => String(g.id) === idOrPath || g.path === idOrPath);
  if (!group) throw notFound("Group");
  return group;
}

export function findProject(emu: Emulator, idOrPathParam: unknown): SimProject {
  const idOrPath = String(idOrPathParam);
  const project = emu.state.projects.find((p) => {
    const group = emu.state.groups.find((g) => g.id === p.group_id);
    return String(p.id) === idOrPath || `${group?.path}/${p.path}` === idOrPath;
  });
  if (!project) throw notFound("Project");
  return project;
}

/** Runner ids are integers (400 "id is invalid" otherwise, as Grape says); unknown ids are 404 "Runner Not Found". */
export function findRunner(emu: Emulator, idParam: unknown): SimRunner {
  const id = typeof idParam === "string" ? idParam : undefined;
  if (!id || !/^\d+$/.test(id)) throw paramError("id is invalid");
  const runner = emu.state.runners.find((r) => r.id === Number(id));
  if (!runner) throw notFound("Runner");
  return runner;
}
