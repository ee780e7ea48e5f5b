import type { Secret } from "@pifleet/io";

/** A project CI/CD variable as pifleet wants it. */
export interface DesiredVariable {
  key: string;
  /** `*` (every job) or the fleet's environment (only jobs that name it: docs/security.md, design D). */
  environment_scope: string;
  value: Secret | string;
  variable_type: "env_var" | "file";
  protected: boolean;
  masked: boolean;
  /** Shown next to the variable in GitLab's settings page, so a person knows who sets it. */
  description: string;
}

/** Entities::Ci::Variable, as GET /projects/:id/variables lists it. */
export interface ExistingVariable {
  key: string;
  value: string | null;
  variable_type: string;
  protected: boolean;
  masked: boolean;
  raw: boolean;
  environment_scope: string;
  description?: string | null;
}

/**
 * What the pipeline's variables are made of. `pifleet sim push` and `pifleet bootstrap` both set the
 * project's variables from this, so a real GitLab and the sim get the same keys and flags.
 */
export interface ProjectVariableInputs {
  /** The fleet's SSH private key (file content). */
  sshKey: Secret;
  /** The API token for jobs that change the fleet (runners-apply, deploy): protected refs only. */
  fleetToken: Secret;
  /** The MR plan note's token: a Reporter project access token (api scope); absent: PIFLEET_NOTE_TOKEN is left as it is. */
  noteToken?: Secret;
  /** An http(s) proxy for apt and npm in image builds (the sim: the host's apt proxy); absent: left as it is. */
  buildProxy?: string;
  /** Image variables (PIFLEET_NODE_IMAGE, …) → refs in a mirror; absent ones are left as they are. */
  images?: Readonly<Record<string, string>>;
}

export const SCOPE = "*";

/**
 * The fleet's GitLab environment: the generated pipeline's jobs that change or read the fleet name it
 * (pipelines' FLEET_ENVIRONMENT; a pipelines unit test holds the two together), and only they get the
 * variables scoped to it.
 */
export const FLEET_ENVIRONMENT = "production";

/** Variables earlier pifleet versions set and that must not stay: the unprotected plan key and token (design D removes them). */
export const RETIRED_KEYS: readonly string[] = ["PIFLEET_PLAN_SSH_KEY", "PIFLEET_PLAN_TOKEN"];

/**
 * The variables the generated pipeline reads (docs/pipelines.md, docs/security.md): the key and the runner
 * manager's token, protected and scoped to the fleet's environment (only the deploy pool's jobs that name it
 * get them); the MR note's Reporter token, unprotected and masked (it can do nothing a Developer cannot);
 * the build proxy and the image names. Only what the inputs give: a variable left out is not touched.
 * Every value is raw (no `$` expansion): a key or a ref is data, not a template.
 */
export function desiredVariables(inputs: ProjectVariableInputs): DesiredVariable[] {
  const plain = (key: string, value: string, description: string): DesiredVariable => ({
    key,
    environment_scope: SCOPE,
    value,
    variable_type: "env_var",
    protected: false,
    masked: false,
    description,
  });
  const given = <T>(value: T | undefined, make: (v: T) => DesiredVariable): DesiredVariable[] => (value === undefined ? [] : [make(value)]);
  return [
    {
      key: "PIFLEET_SSH_KEY",
      environment_scope: FLEET_ENVIRONMENT,
      value: inputs.sshKey,
      variable_type: "file",
      protected: true,
      // GitLab cannot mask a multi-line value; a file variable reaches jobs as a path, never in a log.
      masked: false,
      description: `SSH key of the fleet: root on every Pi. Protected, for the jobs of environment ${FLEET_ENVIRONMENT} only`,
    },
    {
      key: "GITLAB_TOKEN",
      environment_scope: FLEET_ENVIRONMENT,
      value: inputs.fleetToken,
      variable_type: "env_var",
      protected: true,
      masked: true,
      description: `Runner manager's API token (Maintainer). Protected, for the jobs of environment ${FLEET_ENVIRONMENT} only`,
    },
    ...given(inputs.noteToken, (value) => ({
      key: "PIFLEET_NOTE_TOKEN",
      environment_scope: SCOPE,
      value,
      variable_type: "env_var",
      protected: false,
      masked: true,
      description: "Reporter project access token: posts the MR plan note, nothing more",
    })),
    ...given(inputs.buildProxy, (value) =>
      plain("PIFLEET_BUILD_PROXY", value, "HTTP proxy for docker builds in jobs (the host's apt-cacher-ng)"),
    ),
    ...Object.entries(inputs.images ?? {})
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, ref]) => plain(key, ref, "public image, mirrored in the cluster registry")),
  ];
}

export interface VariablePlan {
  create: DesiredVariable[];
  update: DesiredVariable[];
  unchanged: DesiredVariable[];
  /** Retired variables, and pifleet's variables in a scope it no longer sets them in (a `*`-scoped key reaches every job). */
  remove: ExistingVariable[];
}

const reveal = (v: Secret | string) => (typeof v === "string" ? v : v.reveal());

function same(d: DesiredVariable, e: ExistingVariable): boolean {
  return (
    e.value === reveal(d.value) &&
    e.variable_type === d.variable_type &&
    e.protected === d.protected &&
    e.masked === d.masked &&
    e.raw &&
    (e.description ?? "") === d.description
  );
}

const slot = (v: { key: string; environment_scope: string }) => `${v.key}\u0000${v.environment_scope}`;

/**
 * Create what is missing, update what differs (value or any attribute), leave the rest, each by key and
 * environment scope; remove retired variables and desired keys held in another scope. Variables pifleet
 * does not set are not touched.
 */
export function planVariables(desired: readonly DesiredVariable[], existing: readonly ExistingVariable[]): VariablePlan {
  const bySlot = new Map(existing.map((e) => [slot(e), e]));
  const plan: VariablePlan = { create: [], update: [], unchanged: [], remove: [] };
  for (const d of desired) {
    const e = bySlot.get(slot(d));
    if (!e) plan.create.push(d);
    else if (same(d, e)) plan.unchanged.push(d);
    else plan.update.push(d);
  }
  const wanted = new Set(desired.map(slot));
  const managed = new Set(desired.map((d) => d.key));
  plan.remove = existing.filter((e) => RETIRED_KEYS.includes(e.key) || (managed.has(e.key) && !wanted.has(slot(e))));
  return plan;
}

/** The request body for POST/PUT /projects/:id/variables (reveals the value: goes only into the HTTP body). */
export function variableBody(d: DesiredVariable): Record<string, unknown> {
  return {
    key: d.key,
    value: reveal(d.value),
    variable_type: d.variable_type,
    protected: d.protected,
    masked: d.masked,
    raw: true,
    environment_scope: d.environment_scope,
    description: d.description,
  };
}
