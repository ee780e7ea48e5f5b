import { Router } from "express";
import { GUEST, MAINTAINER } from "../access.js";
import { allowScopes } from "../auth.js";
import type { Emulator } from "../context.js";
import { paramError } from "../errors.js";
import { boolParam, readParams } from "../params.js";
import { presentProject } from "../present.js";
import { defaultBranch, pathWithNamespace } from "../repository.js";
import type { SimProject } from "../state.js";
import { memberProject } from "./project-access.js";

/** What PUT /projects/:id takes here: the one setting the runner lists read. Anything else is not modelled (501). */
const UPDATABLE = ["shared_runners_enabled"] as const;

/**
 * GET /projects/:id (the first call many clients make) and PUT /projects/:id for shared_runners_enabled
 * (lib/api/projects.rb): read by any member (404 for others), changed by a Maintainer.
 */
export function projectRouter(emu: Emulator): Router {
  const r = Router();

  /** The Entities::Project fields a client reads first; the sim's projects are private. */
  const present = (project: SimProject) => {
    const base = presentProject(project, emu.state);
    const group = emu.state.groups.find((g) => g.id === project.group_id);
    const webUrl = `${emu.baseUrl()}/${pathWithNamespace(emu, project)}`;
    return {
      ...base,
      default_branch: defaultBranch(project),
      visibility: "private",
      web_url: webUrl,
      http_url_to_repo: `${webUrl}.git`,
      namespace: group
        ? {
            id: group.id,
            name: group.name,
            path: group.path,
            kind: "group",
            full_path: group.path,
            web_url: `${emu.baseUrl()}/groups/${group.path}`,
          }
        : null,
      archived: false,
      shared_runners_enabled: project.shared_runners_enabled ?? true,
    };
  };

  r.get("/projects/:id", allowScopes(), (req, res) => {
    res.json(present(memberProject(emu, req, res, GUEST)));
  });

  r.put("/projects/:id", allowScopes(), (req, res, next) => {
    const p = readParams(req);
    const keys = Object.keys(p).filter((k) => k !== "id");
    // Other attributes are not modelled: fall through to the 501 rather than answer a silent success.
    if (keys.some((k) => !(UPDATABLE as readonly string[]).includes(k))) return next();
    const enabled = boolParam(p, "shared_runners_enabled");
    if (enabled === undefined) throw paramError("at least one parameter must be provided");
    const project = memberProject(emu, req, res, MAINTAINER);
    emu.state.projects = emu.state.projects.map((x) => (x.id === project.id ? { ...x, shared_runners_enabled: enabled } : x));
    emu.save();
    res.json(present({ ...project, shared_runners_enabled: enabled }));
  });
  return r;
}
