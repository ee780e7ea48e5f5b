import { type Request, type Response, Router } from "express";
import { MAINTAINER } from "../access.js";
import { allowScopes } from "../auth.js";
import { presentVariable } from "../ci-present.js";
import { ciState, type SimVariable, VARIABLE_TYPES } from "../ci-state.js";
import type { Emulator } from "../context.js";
import { ApiError, notFound, paramError, validationError } from "../errors.js";
import { boolParam, enumParam, type Params, readParams, requireParam, stringParam } from "../params.js";
import { sendPage } from "../send-page.js";
import type { SimProject } from "../state.js";
import { variableValidationErrors } from "../variable-model.js";
import { memberProject } from "./project-access.js";

/**
 * Project CI/CD variables (lib/api/ci/variables.rb). Every route wants the admin_cicd_variables
 * permission, the Maintainer role: a Reporter or Developer gets 403, a non-member 404 "Project Not Found".
 */
export function variablesRouter(emu: Emulator): Router {
  const r = Router();

  const project = (req: Request, res: Response) => memberProject(emu, req, res, MAINTAINER);
  const ofProject = (p: SimProject) => ciState(emu.state).variables.filter((v) => v.project_id === p.id);

  /** Ci::VariablesFinder plus find_variable: by key, optionally by filter[environment_scope]; two matches is a 409. */
  const findVariable = (req: Request, res: Response, p: Params): SimVariable => {
    const key = String(req.params.key);
    const filter = p.filter;
    if (filter !== undefined && (typeof filter !== "object" || filter === null || Array.isArray(filter)))
      throw paramError("filter is invalid");
    const scope = filter ? stringParam(filter as Params, "environment_scope") : undefined;
    const matches = ofProject(project(req, res)).filter((v) => v.key === key && (scope === undefined || v.environment_scope === scope));
    if (matches.length > 1) {
      throw new ApiError(409, { message: "There are multiple variables with provided parameters. Please use 'filter[environment_scope]'" });
    }
    const [variable] = matches;
    if (!variable) throw notFound("Variable");
    return variable;
  };

  /** Model validation; the key's uniqueness is checked against the project's other variables. */
  const validate = (candidate: SimVariable) => {
    const others = ciState(emu.state).variables.filter((v) => v.project_id === candidate.project_id && v.id !== candidate.id);
    const errors = variableValidationErrors(candidate, others);
    if (Object.keys(errors).length > 0) throw validationError(errors);
  };

  r.get("/projects/:id/variables", allowScopes(), (req, res) => {
    const p = readParams(req);
    const variables = ofProject(project(req, res)).sort((a, b) => a.id - b.id);
    sendPage(req, res, p, variables, presentVariable);
  });

  r.get("/projects/:id/variables/:key", allowScopes(), (req, res) => {
    res.json(presentVariable(findVariable(req, res, readParams(req))));
  });

  r.post("/projects/:id/variables", allowScopes(), (req, res) => {
    const target = project(req, res);
    const p = readParams(req);
    const missing = ["key", "value"].filter((k) => p[k] === undefined || p[k] === null);
    if (missing.length > 0) throw paramError(missing.map((k) => `${k} is missing`).join(", "));
    const key = requireParam(stringParam(p, "key"), "key").trim();
    const value = requireParam(stringParam(p, "value"), "value");
    const masked = boolParam(p, "masked");
    const hidden = boolParam(p, "masked_and_hidden") ?? false;
    const attrs = {
      protected: boolParam(p, "protected") ?? false,
      raw: boolParam(p, "raw") ?? false,
      variable_type: enumParam(p, "variable_type", VARIABLE_TYPES) ?? "env_var",
      environment_scope: stringParam(p, "environment_scope") ?? "*",
      description: stringParam(p, "description") ?? null,
    };
    const ci = ciState(emu.state);
    const candidate: SimVariable = {
      id: ci.nextId.variable,
      project_id: target.id,
      key,
      value,
      masked: hidden || (masked ?? false),
      hidden,
      ...attrs,
    };
    validate(candidate);
    ci.nextId.variable++;
    ci.variables.push(candidate);
    emu.save();
    res.status(201).json(presentVariable(candidate));
  });

  r.put("/projects/:id/variables/:key", allowScopes(), (req, res) => {
    const p = readParams(req);
    const changes = {
      value: stringParam(p, "value"),
      protected: boolParam(p, "protected"),
      masked: boolParam(p, "masked"),
      raw: boolParam(p, "raw"),
      variable_type: enumParam(p, "variable_type", VARIABLE_TYPES),
      environment_scope: stringParam(p, "environment_scope"),
      description: stringParam(p, "description"),
    };
    const variable = findVariable(req, res, p);
    const defined = Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined));
    const updated: SimVariable = { ...variable, ...defined };
    validate(updated);
    Object.assign(variable, updated);
    emu.save();
    res.json(presentVariable(variable));
  });

  r.delete("/projects/:id/variables/:key", allowScopes(), (req, res) => {
    const variable = findVariable(req, res, readParams(req));
    const ci = ciState(emu.state);
    ci.variables = ci.variables.filter((v) => v.id !== variable.id);
    emu.save();
    res.status(204).end();
  });

  return r;
}
