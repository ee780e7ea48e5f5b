import type { GitlabTransport } from "@pifleet/io";
import { type DesiredVariable, type ExistingVariable, planVariables, SCOPE, type VariablePlan, variableBody } from "./variables.js";

/** A GitLab project as the variables API addresses it: by id, or by its path ("group/project"). */
export interface ProjectApi {
  api: GitlabTransport;
  projectId: number | string;
}

const variablesPath = (project: ProjectApi) => `/projects/${encodeURIComponent(String(project.projectId))}/variables`;

/** GET /projects/:id/variables, every page (a Maintainer's token with read_api or api). */
export function listVariables(project: ProjectApi): Promise<ExistingVariable[]> {
  return project.api.paginate<ExistingVariable>(variablesPath(project), { per_page: 100 });
}

/**
 * Creates and updates the project's variables as planned (POST, or PUT in scope `*`); returns the plan.
 * The one path by which pifleet writes CI/CD variables: `pifleet bootstrap` on a real GitLab, `sim push` on the sim.
 */
export async function applyVariables(
  project: ProjectApi,
  desired: readonly DesiredVariable[],
  existing: readonly ExistingVariable[],
): Promise<VariablePlan> {
  const plan = planVariables(desired, existing);
  const base = variablesPath(project);
  for (const v of plan.create) await project.api.request("POST", base, { body: variableBody(v) });
  for (const v of plan.update) {
    await project.api.request("PUT", `${base}/${encodeURIComponent(v.key)}`, {
      query: { "filter[environment_scope]": SCOPE },
      body: variableBody(v),
    });
  }
  return plan;
}
