/**
 * The typed model of a GitLab CI configuration: camelCase here, snake_case in
 * the YAML (see render/keys.ts). Jobs refer to other jobs by object, never by
 * name, so a rename cannot leave a dangling `needs`.
 * @see https://docs.gitlab.com/ci/yaml/
 */

/** @see https://docs.gitlab.com/ci/yaml/#when */
export type When = "on_success" | "on_failure" | "always" | "never" | "manual" | "delayed";

/** A script is one command or a list of commands, run in order. */
export type Script = string | readonly string[];

/** A CI/CD variable: a plain value, or a value with a description for "Run pipeline" forms. */
export type VariableValue = string | VariableDefinition;

/** @see https://docs.gitlab.com/ci/yaml/#variablesdescription */
export interface VariableDefinition {
  readonly value: string;
  /** Shown in the "Run pipeline" form. */
  readonly description?: string;
  /** Allowed values, offered as a drop-down; must contain `value`. */
  readonly options?: readonly string[];
  /** @default true */
  readonly expand?: boolean;
}

/** Keys are user-owned: they keep their spelling in the YAML. */
export type Variables = Readonly<Record<string, VariableValue>>;

/** @see https://docs.gitlab.com/ci/yaml/#image */
export interface ImageSpec {
  readonly name: string;
  readonly entrypoint?: readonly string[];
  readonly pullPolicy?: "always" | "never" | "if-not-present" | ReadonlyArray<"always" | "never" | "if-not-present">;
  /** e.g. `{ platform: "linux/arm64" }` */
  readonly docker?: { readonly platform?: string; readonly user?: string };
}
export type Image = string | ImageSpec;

/** @see https://docs.gitlab.com/ci/yaml/#services */
export interface ServiceSpec {
  readonly name: string;
  readonly alias?: string;
  readonly entrypoint?: readonly string[];
  readonly command?: readonly string[];
  readonly variables?: Variables;
}
export type Service = string | ServiceSpec;

/** One axis set of parallel:matrix: every combination of the values becomes a job. */
export type MatrixEntry = Readonly<Record<string, string | readonly string[]>>;

/** @see https://docs.gitlab.com/ci/yaml/#parallelmatrix */
export type Parallel = number | { readonly matrix: readonly MatrixEntry[] };

/** @see https://docs.gitlab.com/ci/yaml/#needs */
export interface NeedSpec {
  readonly job: Job;
  /** @default true */
  readonly artifacts?: boolean;
  /** The need is skipped when the job is not in the pipeline. @default false */
  readonly optional?: boolean;
  /** Need only the given matrix instances of a parallel:matrix job. */
  readonly parallel?: { readonly matrix: readonly MatrixEntry[] };
}
export type Need = Job | NeedSpec;

/** @see https://docs.gitlab.com/ci/yaml/#rules */
export interface Rule {
  readonly if?: string;
  readonly changes?: readonly string[] | { readonly paths: readonly string[]; readonly compareTo?: string };
  readonly exists?: readonly string[];
  readonly when?: When;
  readonly startIn?: string;
  readonly allowFailure?: boolean;
  readonly needs?: readonly Need[];
  readonly variables?: Readonly<Record<string, string>>;
  readonly interruptible?: boolean;
}

/** @see https://docs.gitlab.com/ci/yaml/#workflow */
export interface Workflow {
  /** Pipeline name shown in the UI (≤ 255 characters). */
  readonly name?: string;
  readonly autoCancel?: {
    readonly onNewCommit?: "conservative" | "interruptible" | "none";
    readonly onJobFailure?: "none" | "all";
  };
  readonly rules?: readonly WorkflowRule[];
}
export interface WorkflowRule {
  readonly if?: string;
  readonly changes?: readonly string[];
  readonly exists?: readonly string[];
  readonly when?: "always" | "never";
  readonly variables?: Readonly<Record<string, string>>;
  readonly autoCancel?: Workflow["autoCancel"];
}

/** @see https://docs.gitlab.com/ci/yaml/#artifacts */
export interface Artifacts {
  readonly paths?: readonly string[];
  readonly exclude?: readonly string[];
  readonly expireIn?: string;
  readonly exposeAs?: string;
  readonly name?: string;
  readonly public?: boolean;
  readonly reports?: {
    readonly junit?: string | readonly string[];
    readonly dotenv?: string | readonly string[];
    readonly coverageReport?: { readonly coverageFormat: "cobertura" | "jacoco"; readonly path: string };
  };
  readonly untracked?: boolean;
  readonly when?: "on_success" | "on_failure" | "always";
}

/** @see https://docs.gitlab.com/ci/yaml/#cache */
export interface Cache {
  readonly key?: string | { readonly files: readonly string[]; readonly prefix?: string };
  readonly paths?: readonly string[];
  readonly untracked?: boolean;
  readonly when?: "on_success" | "on_failure" | "always";
  readonly policy?: "pull" | "push" | "pull-push";
  readonly fallbackKeys?: readonly string[];
}

/** @see https://docs.gitlab.com/ci/yaml/#environment */
export interface Environment {
  readonly name: string;
  readonly url?: string;
  /** @default "start" */
  readonly action?: "start" | "prepare" | "stop" | "verify" | "access";
  /** The job that stops this environment; it must have action "stop". */
  readonly onStop?: Job;
  readonly deploymentTier?: "production" | "staging" | "testing" | "development" | "other";
  readonly autoStopIn?: string;
}

/** @see https://docs.gitlab.com/ci/yaml/#retry */
export type Retry = 0 | 1 | 2 | { readonly max?: 0 | 1 | 2; readonly when?: readonly string[]; readonly exitCodes?: readonly number[] };

/** @see https://docs.gitlab.com/ci/yaml/#id_tokens */
export interface IdToken {
  readonly aud: string | readonly string[];
}

/** A child pipeline's configuration source. `artifact` makes it a dynamic child pipeline. */
export type TriggerInclude =
  | { readonly local: string }
  | { readonly template: string }
  | { readonly project: string; readonly file: string; readonly ref?: string }
  | { readonly artifact: string; readonly job: Job };

/** @see https://docs.gitlab.com/ci/yaml/#trigger */
export interface Trigger {
  /** Child pipeline (at most 3 sources). */
  readonly include?: readonly TriggerInclude[];
  /** Multi-project pipeline. */
  readonly project?: string;
  readonly branch?: string;
  readonly strategy?: "depend";
  readonly forward?: { readonly yamlVariables?: boolean; readonly pipelineVariables?: boolean };
}

/** @see https://docs.gitlab.com/ci/yaml/#include */
export type Include =
  | { readonly local: string; readonly rules?: readonly WorkflowRule[] }
  | { readonly project: string; readonly file: string | readonly string[]; readonly ref?: string }
  | { readonly remote: string }
  | { readonly template: string }
  | { readonly component: string; readonly inputs?: Readonly<Record<string, string | number | boolean>> };

/** @see https://docs.gitlab.com/ci/yaml/#default */
export interface Defaults {
  readonly afterScript?: Script;
  readonly artifacts?: Artifacts;
  readonly beforeScript?: Script;
  readonly cache?: Cache | readonly Cache[];
  readonly idTokens?: Readonly<Record<string, IdToken>>;
  readonly image?: Image;
  readonly interruptible?: boolean;
  readonly retry?: Retry;
  readonly services?: readonly Service[];
  readonly tags?: readonly string[];
  readonly timeout?: string;
}

/** Everything a job may set. Names live on Job; see model/job.ts for how jobs are made. */
export interface JobSpec {
  /** Templates (hidden jobs, names starting with ".") this job extends, in merge order. */
  readonly extends?: readonly Job[];
  /** @default "test" */
  readonly stage?: string;
  readonly image?: Image;
  readonly services?: readonly Service[];
  readonly tags?: readonly string[];
  readonly needs?: readonly Need[];
  readonly dependencies?: readonly Job[];
  readonly rules?: readonly Rule[];
  readonly variables?: Variables;
  readonly idTokens?: Readonly<Record<string, IdToken>>;
  readonly inputs?: Readonly<Record<string, string | number | boolean>>;
  readonly beforeScript?: Script;
  readonly script?: Script;
  readonly afterScript?: Script;
  readonly trigger?: Trigger;
  readonly parallel?: Parallel;
  readonly environment?: Environment;
  readonly resourceGroup?: string;
  readonly artifacts?: Artifacts;
  readonly cache?: Cache | readonly Cache[];
  /** Regex that extracts the coverage figure from the job log, e.g. "/Lines\\s*:\\s*(\\d+.?\\d*)%/". */
  readonly coverage?: string;
  readonly retry?: Retry;
  readonly timeout?: string;
  readonly interruptible?: boolean;
  readonly allowFailure?: boolean | { readonly exitCodes: number | readonly number[] };
  readonly when?: When;
  readonly startIn?: string;
  /** Text GitLab shows before a manual job runs. */
  readonly manualConfirmation?: string;
  /** Which global defaults and variables the job takes. @default all of both */
  readonly inherit?: { readonly default?: boolean | readonly string[]; readonly variables?: boolean | readonly string[] };
}

/** A named job. Hidden templates have names starting with ".". */
export interface Job extends JobSpec {
  readonly name: string;
}

/** A whole .gitlab-ci.yml. */
export interface PipelineSpec {
  readonly include?: readonly Include[];
  readonly workflow?: Workflow;
  /** Derived from the jobs (first-seen order) when not given. */
  readonly stages?: readonly string[];
  readonly variables?: Variables;
  readonly default?: Defaults;
  readonly jobs: readonly Job[];
}
