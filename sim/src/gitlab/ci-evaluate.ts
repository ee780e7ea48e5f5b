import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type ProcessRunner, processRunner } from "@pifleet/io";
import { parse } from "yaml";

/**
 * Which jobs GitLab would create for one commit and event, as gitlab-ci-local evaluates the
 * commit's .gitlab-ci.yml: `--list-json` gives the jobs with rules applied (a job whose rules do
 * not match reads `when: never`), `--preview` the expanded configuration (for tags, which
 * --list-json leaves out). We read their output; we interpret no YAML rules of our own.
 */

/**
 * gitlab-ci-local is a devDependency of the repository root (4.73.0, the newest that runs on
 * Node 20); npm workspaces hoist its binary to <root>/node_modules/.bin, three levels above this
 * file's folder (sim/src/gitlab or sim/dist/gitlab).
 */
export const GITLAB_CI_LOCAL = resolve(dirname(fileURLToPath(import.meta.url)), "../../../node_modules/.bin/gitlab-ci-local");

/**
 * This process's environment for a gitlab-ci-local run, without colour and without GCL_* variables:
 * gitlab-ci-local reads those as its options, and a job that gitlab-ci-local runs has some
 * (GCL_PROJECT_DIR_ON_HOST) — so a test suite running inside such a job would pass them on.
 */
export function gitlabCiLocalEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("GCL_")));
  return { ...env, NO_COLOR: "1", FORCE_COLOR: "0" };
}

/** gitlab-ci-local hangs forever on a needs cycle: every call is killed after this long. */
export const EVALUATE_TIMEOUT_MS = 60_000;

export interface EvaluatedJob {
  name: string;
  stage: string;
  /** on_success, manual, always, delayed … (never-jobs are dropped). */
  when: string;
  allow_failure: boolean;
  tag_list: string[];
  /** Job names from needs:, or undefined when the job has no needs: (stage order applies). */
  needs: string[] | undefined;
  resource_group: string | null;
  /** environment: name (a string, or the name of the environment hash). */
  environment: string | null;
  /** timeout: in seconds, or null when the job sets none. */
  timeout_s: number | null;
  /** The job's expanded configuration as --preview prints it (script, image, artifacts, …). */
  config: Record<string, unknown>;
}

export type Evaluation =
  | { kind: "jobs"; stages: string[]; jobs: EvaluatedJob[] }
  /** The configuration is invalid: GitLab creates a failed pipeline carrying yaml_errors. */
  | { kind: "invalid"; yamlErrors: string };

export interface EvaluateOptions {
  /** A bare repository holding the commit. */
  repoDir: string;
  sha: string;
  /** GitLab's predefined variables for the event (passed as --variable KEY=VALUE). */
  variables: Record<string, string>;
  /** The project's default branch: gitlab-ci-local diffs against origin/<it> for `rules:changes`. */
  defaultBranch: string;
  /** What `rules:changes` compares against (a sha), or null: every `changes` rule matches (GitLab's rule for new branches and tags). */
  changesBase: string | null;
  runner?: ProcessRunner;
  timeoutMs?: number;
  program?: string;
}

interface ListedJob {
  name: string;
  stage: string;
  when: string;
  allow_failure: boolean | { exit_codes: number[] };
  needs?: { job: string }[];
}

/** Evaluates the commit's pipeline in a throw-away checkout of it (gitlab-ci-local copies only git-tracked files). */
export async function evaluatePipeline(options: EvaluateOptions): Promise<Evaluation> {
  const runner = options.runner ?? processRunner;
  const program = options.program ?? GITLAB_CI_LOCAL;
  const timeoutMs = options.timeoutMs ?? EVALUATE_TIMEOUT_MS;
  // No .gitlab-ci.yml in the commit: GitLab creates no pipeline.
  const hasConfig = await runner.run("git", ["--git-dir", options.repoDir, "cat-file", "-e", `${options.sha}:.gitlab-ci.yml`], {
    allowFailure: true,
    describe: "git cat-file",
  });
  if (hasConfig.code !== 0) return { kind: "jobs", stages: [], jobs: [] };
  const work = mkdtempSync(join(tmpdir(), "pifleet-ci-evaluate-"));
  try {
    await runner.run("git", ["clone", "--quiet", "--shared", "--no-checkout", options.repoDir, work], { describe: "git clone" });
    await runner.run("git", ["-C", work, "checkout", "--quiet", "--detach", options.sha], { describe: "git checkout" });
    const changes = await pointChangesBase(runner, work, options.defaultBranch, options.changesBase);
    const vars = [...changes, ...Object.entries(options.variables).flatMap(([k, v]) => ["--variable", `${k}=${v}`])];
    // These are GitLab's own predefined variables, set on purpose: silence gitlab-ci-local's warning.
    // (One comma-separated value: given twice, gitlab-ci-local 4.73 crashes with "split is not a function".)
    const names = Object.keys(options.variables);
    const ignore = names.length > 0 ? ["--ignore-predefined-vars", names.join(",")] : [];
    const common = { cwd: work, allowFailure: true, timeoutMs, env: gitlabCiLocalEnv() };
    const listed = await runner.run(program, ["--list-json", ...vars, ...ignore], { ...common, describe: "gitlab-ci-local --list-json" });
    if (listed.code !== 0) return { kind: "invalid", yamlErrors: configError(listed.stderr, listed.stdout) };
    const preview = await runner.run(program, ["--preview", ...vars, ...ignore], { ...common, describe: "gitlab-ci-local --preview" });
    if (preview.code !== 0) return { kind: "invalid", yamlErrors: configError(preview.stderr, preview.stdout) };
    const rules = workflowRules(preview.stdout);
    if (rules !== undefined) {
      // gitlab-ci-local 4.73 applies workflow:rules' variables but never drops a pipeline. Its own rules
      // engine decides instead: the workflow rules become the rules of a one-job probe file (JSON is
      // YAML), and a probe that reads `when: never` means GitLab would create no pipeline.
      const probe = ".pifleet-workflow-probe.yml";
      writeFileSync(join(work, probe), JSON.stringify({ "pifleet-workflow-probe": { script: ["true"], rules } }));
      const probed = await runner.run(program, ["--file", probe, "--list-json", ...vars, ...ignore], {
        ...common,
        describe: "gitlab-ci-local --list-json (workflow probe)",
      });
      if (probed.code !== 0) return { kind: "invalid", yamlErrors: configError(probed.stderr, probed.stdout) };
      if (jsonArray(probed.stdout).every((j) => j.when === "never")) return { kind: "jobs", stages: [], jobs: [] };
    }
    const committed = await runner.run("git", ["-C", work, "show", "HEAD:.gitlab-ci.yml"], { describe: "git show .gitlab-ci.yml" });
    return mapEvaluation(listed.stdout, preview.stdout, committedDefault(committed.stdout));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * gitlab-ci-local judges `rules:changes` by `git diff origin/<default branch>`: pointing that ref at
 * the base GitLab would compare with gives GitLab's answer. Without a base every `changes` rule
 * matches (--no-evaluate-rule-changes). Returns the flag to pass, if any.
 */
export async function pointChangesBase(runner: ProcessRunner, work: string, defaultBranch: string, base: string | null): Promise<string[]> {
  if (base === null) return ["--no-evaluate-rule-changes"];
  const ref = `refs/remotes/origin/${defaultBranch}`;
  await runner.run("git", ["-C", work, "update-ref", ref, base], { describe: "git update-ref (rules:changes base)" });
  await runner.run("git", ["-C", work, "symbolic-ref", "refs/remotes/origin/HEAD", ref], { describe: "git symbolic-ref" });
  return [];
}

/** workflow:rules from the expanded configuration (--preview), or undefined when it has none. */
function workflowRules(preview: string): unknown[] | undefined {
  const config = (parse(preview.replace(/^---\n/, "")) ?? {}) as { workflow?: { rules?: unknown } };
  return Array.isArray(config.workflow?.rules) ? config.workflow.rules : undefined;
}

/** The JSON array in --list-json's stdout (warnings may come before it). */
function jsonArray(stdout: string): ListedJob[] {
  const start = stdout.indexOf("[");
  if (start < 0) throw new Error("gitlab-ci-local --list-json printed no JSON array");
  return JSON.parse(stdout.slice(start)) as ListedJob[];
}

/**
 * The `default:` section of the committed file. gitlab-ci-local's --preview drops it after merging only
 * artifacts, cache, services, image and before/after_script into the jobs; GitLab also inherits `tags`
 * and `timeout` from it, which placement and the job timeout need.
 */
export function committedDefault(yamlText: string): Record<string, unknown> {
  try {
    const doc = parse(yamlText) as { default?: unknown } | null;
    return typeof doc?.default === "object" && doc.default !== null ? (doc.default as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** A keyword of `default:` the job takes, as GitLab's `inherit:default` (false, or a list of keywords) allows. */
function inherited(job: Record<string, unknown>, defaults: Record<string, unknown>, keyword: string): unknown {
  const inherit = (job.inherit as { default?: unknown } | undefined)?.default;
  if (inherit === false || (Array.isArray(inherit) && !inherit.includes(keyword))) return undefined;
  return defaults[keyword];
}

/** Maps recorded --list-json and --preview output to the jobs GitLab would create (pure: unit-tested on recorded output). */
export function mapEvaluation(listJson: string, preview: string, defaults: Record<string, unknown> = {}): Evaluation {
  const listed = jsonArray(listJson);
  const config = (parse(preview.replace(/^---\n/, "")) ?? {}) as Record<string, unknown>;
  const stages = Array.isArray(config.stages) ? config.stages.map(String) : [".pre", "build", "test", "deploy", ".post"];
  const jobs = listed
    .filter((j) => j.when !== "never")
    .map((j): EvaluatedJob => {
      const raw = (config[j.name] ?? {}) as Record<string, unknown>;
      const tagsOf = raw.tags ?? inherited(raw, defaults, "tags");
      const tags = Array.isArray(tagsOf) ? tagsOf.map(String) : [];
      const timeout = raw.timeout ?? inherited(raw, defaults, "timeout");
      const environment = typeof raw.environment === "object" ? (raw.environment as { name?: unknown } | null)?.name : raw.environment;
      return {
        name: j.name,
        stage: j.stage,
        when: j.when,
        allow_failure: j.allow_failure !== false,
        tag_list: tags,
        needs: j.needs?.map((n) => n.job),
        resource_group: typeof raw.resource_group === "string" ? raw.resource_group : null,
        environment: typeof environment === "string" ? environment : null,
        timeout_s: timeout === undefined ? null : durationSeconds(String(timeout)),
        config: raw,
      };
    });
  return { kind: "jobs", stages, jobs };
}

/** Seconds per unit, by the unit's first letter (s, sec, seconds; m, min, minutes; h, hr, hours; d, days). */
const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** GitLab's `timeout:` ("1h 30m", "10 minutes", "3600", "2 hours") in seconds; null when unreadable. */
export function durationSeconds(text: string): number | null {
  if (/^\s*\d+\s*$/.test(text)) return Number(text);
  const parts = [...text.toLowerCase().matchAll(/(\d+(?:\.\d+)?)\s*([a-z]+)/g)];
  if (parts.length === 0) return null;
  let total = 0;
  for (const [, n, unit = ""] of parts) {
    const seconds = UNIT_SECONDS[unit.charAt(0)];
    if (seconds === undefined) return null;
    total += Number(n) * seconds;
  }
  return Math.round(total);
}

/** The first meaningful line of gitlab-ci-local's complaint, as GitLab's yaml_errors shows one sentence. */
function configError(stderr: string, stdout: string): string {
  const lines = `${stderr}\n${stdout}`.split("\n").map((l) => l.trim());
  const found =
    lines.find((l) => /Exception|invalid|Error:/i.test(l) && !/Command failed|No such remote/.test(l)) ??
    lines.find((l) => l.length > 0) ??
    "unknown error";
  return found.replace(/^(YAMLException|Error):\s*/, "");
}
