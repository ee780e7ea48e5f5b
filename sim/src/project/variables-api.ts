import { type GitlabTransport, gitlabTransport, Secret } from "@pifleet/io";
import { type DesiredVariable, type ExistingVariable, planVariables, type VariablePlan, variableBody } from "./variables.js";

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
 * Creates, updates and removes the project's variables as planned (POST, PUT and DELETE, each in its
 * environment scope); returns the plan.
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
      query: { "filter[environment_scope]": v.environment_scope },
      body: variableBody(v),
    });
  }
  for (const v of plan.remove) {
    await project.api.request("DELETE", `${base}/${encodeURIComponent(v.key)}`, {
      query: { "filter[environment_scope]": v.environment_scope },
    });
  }
  return plan;
}

/** The name pifleet gives the MR note's project access token (GitLab shows it under Settings → Access tokens). */
export const NOTE_TOKEN_NAME = "pifleet plan note";
const REPORTER = 20;
/** GitLab caps an access token's lifetime at a year (by default); mint for just under it. */
const NOTE_TOKEN_DAYS = 364;

interface AccessToken {
  id: number;
  name: string;
  active: boolean;
  access_level: number;
  token?: string;
}

/**
 * Whether `held` is one of our active Reporter tokens with the api scope only, asked of GitLab with the
 * token itself (GET /personal_access_tokens/self): a revoked value left behind by a failed rerun, or a
 * stronger token someone set by hand, is not kept.
 */
/** A revoked token answers 401 at once; that is the answer, not a reason to retry. */
const NO_RETRY = { attempts: 1, baseDelayMs: 0, maxDelayMs: 0, maxRetryAfterMs: 0 };

async function isOneOf(project: ProjectApi, held: string, ours: readonly AccessToken[]): Promise<boolean> {
  const asHeld = gitlabTransport({ url: project.api.apiUrl, auth: { header: "PRIVATE-TOKEN", token: new Secret(held) }, retry: NO_RETRY });
  const self = await asHeld
    .request<{ id: number; active: boolean; scopes: string[] }>("GET", "/personal_access_tokens/self")
    .then((r) => r.body)
    .catch(() => undefined);
  const mine = self && ours.find((t) => t.id === self.id);
  return Boolean(self?.active && mine?.access_level === REPORTER && self.scopes.join(",") === "api");
}

/**
 * The token PIFLEET_NOTE_TOKEN should hold: the one it holds while that is one of ours (isOneOf: a rerun
 * changes nothing), else a new Reporter project access token with the api scope
 * (POST /projects/:id/access_tokens; the caller needs the Maintainer role), and older ones revoked.
 */
export async function noteTokenFor(project: ProjectApi, existing: readonly ExistingVariable[], now: Date = new Date()): Promise<Secret> {
  const path = `/projects/${encodeURIComponent(String(project.projectId))}/access_tokens`;
  const ours = (await project.api.paginate<AccessToken>(path, { state: "active", per_page: 100 })).filter(
    (t) => t.name === NOTE_TOKEN_NAME,
  );
  const held = existing.find((v) => v.key === "PIFLEET_NOTE_TOKEN")?.value;
  if (held && (await isOneOf(project, held, ours))) return new Secret(held);
  const expires = new Date(now.getTime() + NOTE_TOKEN_DAYS * 86_400_000).toISOString().slice(0, 10);
  const made = await project.api.request<AccessToken>("POST", path, {
    body: {
      name: NOTE_TOKEN_NAME,
      scopes: ["api"],
      access_level: REPORTER,
      expires_at: expires,
      description: "pifleet: MR plan notes only",
    },
  });
  if (!made.body.token) throw new Error("internal: GitLab answered the access token's creation without the token");
  for (const old of ours) await project.api.request("DELETE", `${path}/${old.id}`);
  return new Secret(made.body.token);
}
