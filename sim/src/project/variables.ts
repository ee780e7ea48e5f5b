import type { Secret } from "@pifleet/io";

/** A project CI/CD variable as pifleet wants it (environment scope `*`). */
export interface DesiredVariable {
  key: string;
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
  /** The key merge-request plan jobs use (check mode only); absent: PIFLEET_PLAN_SSH_KEY is left as it is. */
  planSshKey?: Secret;
  /** The API token of merge-request plans and the MR note; absent: PIFLEET_PLAN_TOKEN is left as it is. */
  planToken?: Secret;
  /** An http(s) proxy for apt and npm in image builds (the sim: the host's apt proxy); absent: left as it is. */
  buildProxy?: string;
  /** Image variables (PIFLEET_NODE_IMAGE, …) → refs in a mirror; absent ones are left as they are. */
  images?: Readonly<Record<string, string>>;
}

export const SCOPE = "*";

/**
 * The variables the generated pipeline reads (docs/pipelines.md): the key and token, protected for jobs
 * on the default branch, the unprotected pair merge-request plans map onto them, the build proxy and
 * the image names. Only what the inputs give: a variable left out is not touched by `planVariables`.
 * Every value is raw (no `$` expansion): a key or a ref is data, not a template.
 */
export function desiredVariables(inputs: ProjectVariableInputs): DesiredVariable[] {
  const plain = (key: string, value: string, description: string): DesiredVariable => ({
    key,
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
      value: inputs.sshKey,
      variable_type: "file",
      protected: true,
      // GitLab cannot mask a multi-line value; a file variable reaches jobs as a path, never in a log.
      masked: false,
      description: "SSH key of the fleet, for jobs that change it (protected refs)",
    },
    ...given(inputs.planSshKey, (value) => ({
      key: "PIFLEET_PLAN_SSH_KEY",
      value,
      variable_type: "file",
      protected: false,
      masked: false,
      description: "SSH key for merge-request plan jobs (check mode only)",
    })),
    {
      key: "GITLAB_TOKEN",
      value: inputs.fleetToken,
      variable_type: "env_var",
      protected: true,
      masked: true,
      description: "API token for runners-apply and deploy (protected refs)",
    },
    ...given(inputs.planToken, (value) => ({
      key: "PIFLEET_PLAN_TOKEN",
      value,
      variable_type: "env_var",
      protected: false,
      masked: true,
      description: "API token for merge-request plans and the MR note",
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

/**
 * Create what is missing, update what differs (value or any attribute), leave the rest. Only
 * variables in scope `*` count; variables pifleet does not set are not touched.
 */
export function planVariables(desired: readonly DesiredVariable[], existing: readonly ExistingVariable[]): VariablePlan {
  const byKey = new Map(existing.filter((e) => e.environment_scope === SCOPE).map((e) => [e.key, e]));
  const plan: VariablePlan = { create: [], update: [], unchanged: [] };
  for (const d of desired) {
    const e = byKey.get(d.key);
    if (!e) plan.create.push(d);
    else if (same(d, e)) plan.unchanged.push(d);
    else plan.update.push(d);
  }
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
    environment_scope: SCOPE,
    description: d.description,
  };
}
