/**
 * Key order in the emitted YAML: the order GitLab's CI/CD YAML syntax
 * reference lists the keywords (global keywords, job keywords, and each
 * keyword's sub-keys). Keys not listed follow in alphabetical order, so the
 * output never depends on the order object literals were written in.
 * @see https://docs.gitlab.com/ci/yaml/
 */
const JOB = [
  "after_script",
  "allow_failure",
  "artifacts",
  "before_script",
  "cache",
  "coverage",
  "dependencies",
  "environment",
  "extends",
  "id_tokens",
  "image",
  "inherit",
  "inputs",
  "interruptible",
  "manual_confirmation",
  "needs",
  "parallel",
  "resource_group",
  "retry",
  "rules",
  "script",
  "services",
  "stage",
  "start_in",
  "tags",
  "timeout",
  "trigger",
  "variables",
  "when",
];

/** Sub-key order per parent keyword (array items take their parent's keyword). */
const BY_PARENT: Record<string, readonly string[]> = {
  root: ["default", "include", "stages", "variables", "workflow"],
  job: JOB,
  default: JOB,
  workflow: ["name", "auto_cancel", "rules"],
  auto_cancel: ["on_new_commit", "on_job_failure"],
  rules: ["if", "changes", "exists", "when", "start_in", "allow_failure", "needs", "variables", "interruptible", "auto_cancel"],
  changes: ["paths", "compare_to"],
  needs: ["job", "artifacts", "optional", "parallel"],
  artifacts: ["paths", "exclude", "expire_in", "expose_as", "name", "public", "reports", "untracked", "when"],
  reports: ["junit", "dotenv", "coverage_report"],
  coverage_report: ["coverage_format", "path"],
  cache: ["key", "paths", "untracked", "when", "policy", "fallback_keys"],
  key: ["files", "prefix"],
  environment: ["name", "url", "action", "on_stop", "deployment_tier", "auto_stop_in"],
  image: ["name", "entrypoint", "docker", "pull_policy"],
  services: ["name", "alias", "entrypoint", "command", "variables"],
  trigger: ["include", "project", "branch", "strategy", "forward"],
  include: ["local", "project", "file", "ref", "remote", "template", "component", "artifact", "job", "inputs", "rules"],
  retry: ["max", "when", "exit_codes"],
  variable: ["value", "description", "options", "expand"],
};

function rank(order: readonly string[] | undefined, key: string): number {
  const i = order?.indexOf(key) ?? -1;
  return i === -1 ? Number.MAX_SAFE_INTEGER : i;
}

/** The keys of an object under `parent`, in GitLab's documented order. */
export function orderedKeys(parent: string, keys: readonly string[]): string[] {
  const order = BY_PARENT[parent];
  return [...keys].sort((a, b) => rank(order, a) - rank(order, b) || (a < b ? -1 : a > b ? 1 : 0));
}
