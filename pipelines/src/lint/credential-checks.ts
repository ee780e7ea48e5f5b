import { type Fleet, poolNodes } from "@pifleet/fleet";
import { FLEET_ENVIRONMENT } from "../project/pipeline.js";
import type { JobMap } from "./extends.js";
import type { Problem } from "./problem.js";
import { type Context, evaluateIf, type Truth, type Unknown } from "./rule-expression.js";

/**
 * The credentials that change the fleet (docs/security.md): root on every Pi, and the runner
 * manager's Maintainer token, which also reads every CI/CD variable.
 */
export const FLEET_CREDENTIALS = ["PIFLEET_SSH_KEY", "GITLAB_TOKEN"] as const;

/**
 * The pipelines a Developer can start with their own `.gitlab-ci.yml`: merge requests, and pipelines
 * of any branch but the default one (pushed, run from the UI or API, scheduled, triggered). Tags are
 * protected (docs/security.md lists that setting), so tag pipelines are not among them.
 */
const DEFAULT_BRANCH: Unknown = { unknown: true, identity: "the default branch" };
const UNPROTECTED_BRANCH: Unknown = { unknown: true, identity: "an unprotected branch" };
/** Any variable not listed: a user's variable may be set or not, to anything (`git push -o ci.variable`, the Run pipeline form). */
const ANYTHING: Unknown = { unknown: true, maybeUnset: true };

interface PipelineKind {
  name: string;
  context: Context;
  /** Jobs without rules or only/except run in it (GitLab's default `only: [branches, tags]`). */
  runsJobsWithoutRules: boolean;
}

const UNPROTECTED_PIPELINES: readonly PipelineKind[] = [
  {
    name: "a merge-request pipeline",
    runsJobsWithoutRules: false,
    context: {
      otherwise: ANYTHING,
      variables: {
        CI_PIPELINE_SOURCE: "merge_request_event",
        CI_DEFAULT_BRANCH: DEFAULT_BRANCH,
        CI_COMMIT_BRANCH: null,
        CI_COMMIT_TAG: null,
        CI_COMMIT_REF_NAME: UNPROTECTED_BRANCH,
        CI_COMMIT_REF_PROTECTED: "false",
        CI_MERGE_REQUEST_IID: { unknown: true },
        CI_MERGE_REQUEST_ID: { unknown: true },
        CI_MERGE_REQUEST_SOURCE_BRANCH_NAME: UNPROTECTED_BRANCH,
      },
    },
  },
  {
    name: "a pipeline of an unprotected branch",
    runsJobsWithoutRules: true,
    context: {
      otherwise: ANYTHING,
      variables: {
        CI_PIPELINE_SOURCE: { unknown: true, excludes: ["merge_request_event"] },
        CI_DEFAULT_BRANCH: DEFAULT_BRANCH,
        CI_COMMIT_BRANCH: UNPROTECTED_BRANCH,
        CI_COMMIT_TAG: null,
        CI_COMMIT_REF_NAME: UNPROTECTED_BRANCH,
        CI_COMMIT_REF_PROTECTED: "false",
        CI_MERGE_REQUEST_IID: null,
        CI_MERGE_REQUEST_ID: null,
      },
    },
  },
];

type Rule = Record<string, unknown>;

const rulesOf = (body: Record<string, unknown>): Rule[] | undefined =>
  Array.isArray(body.rules) ? body.rules.filter((r): r is Rule => typeof r === "object" && r !== null) : undefined;

/** Whether a rule applies: its `if` (absent: true), and "maybe" if it also depends on `changes` or `exists`. */
function ruleApplies(rule: Rule, context: Context): Truth {
  const condition: Truth = typeof rule.if === "string" ? evaluateIf(rule.if, context) : true;
  if (condition === false) return false;
  return rule.changes !== undefined || rule.exists !== undefined ? "maybe" : condition;
}

/**
 * Whether a rules list could add the job (or admit the pipeline), and the `variables:` of every rule
 * that could be the one that does. GitLab takes the first rule that applies; no rule: not added.
 */
function couldBeAdded(rules: Rule[], context: Context): { possible: boolean; ruleVariables: Record<string, unknown>[] } {
  const ruleVariables: Record<string, unknown>[] = [];
  let possible = false;
  for (const rule of rules) {
    const applies = ruleApplies(rule, context);
    if (applies === false) continue;
    if (rule.when === "never") {
      if (applies === true) break;
      continue;
    }
    possible = true;
    if (typeof rule.variables === "object" && rule.variables !== null) ruleVariables.push(rule.variables as Record<string, unknown>);
    if (applies === true) break;
  }
  return { possible, ruleVariables };
}

function jobCouldRun(body: Record<string, unknown>, kind: PipelineKind): { possible: boolean; ruleVariables: Record<string, unknown>[] } {
  const rules = rulesOf(body);
  if (rules) return couldBeAdded(rules, kind.context);
  // only/except: not modelled; a job using them is taken to run anywhere they could let it.
  if (body.only !== undefined || body.except !== undefined) return { possible: true, ruleVariables: [] };
  return { possible: kind.runsJobsWithoutRules, ruleVariables: [] };
}

function environmentName(body: Record<string, unknown>): string | undefined {
  const e = body.environment;
  if (typeof e === "string") return e;
  const name = typeof e === "object" && e !== null ? (e as { name?: unknown }).name : undefined;
  return typeof name === "string" ? name : undefined;
}

const CREDENTIAL_REFERENCE = new RegExp(`\\$\\{?(${FLEET_CREDENTIALS.join("|")})\\b`);

/** `variables:` entries that hand a job a fleet credential: one named like it, or a value that copies it. */
function credentialVariables(variables: Record<string, unknown>): string[] {
  return Object.entries(variables)
    .filter(([key, v]) => {
      const value = typeof v === "object" && v !== null ? (v as { value?: unknown }).value : v;
      return (FLEET_CREDENTIALS as readonly string[]).includes(key) || (typeof value === "string" && CREDENTIAL_REFERENCE.test(value));
    })
    .map(([key]) => key);
}

const asVariables = (v: unknown): Record<string, unknown> => (typeof v === "object" && v !== null ? (v as Record<string, unknown>) : {});

/**
 * Refuses a pipeline that could hand a fleet credential, or a Pi's root, to a job a Developer
 * controls (docs/security.md, design D). A job is refused when it could run in a merge-request
 * pipeline or a pipeline of an unprotected branch (its rules, and the workflow's, evaluated for those
 * pipelines; anything undecidable counts as "could") AND
 *   1. it names the fleet's environment (`production`): the deploy credentials are scoped to it; or
 *   2. its `variables:` — its own, a rule's, the workflow's or the global ones — define
 *      PIFLEET_SSH_KEY or GITLAB_TOKEN, or copy one into another name; or
 *   3. its tags are served by a protected pool (whose runners never take it: pending forever) or by a
 *      pool that mounts the Docker socket (root on that node).
 * Scripts that merely mention the names hold nothing: GitLab hands a variable over, or it does not.
 */
export function credentialProblems(doc: Record<string, unknown>, jobs: JobMap, fleet: Fleet): Problem[] {
  const problems: Problem[] = [];
  const workflowRules = rulesOf(asVariables(doc.workflow));
  const globalCredentials = credentialVariables(asVariables(doc.variables));
  const pools = fleet.pools
    .filter((p) => poolNodes(fleet, p).length > 0)
    .map((p) => ({ name: p.name, tags: new Set(p.tags), protected: p.protected, dockerSocket: p.dockerSocket }));

  for (const [name, body] of jobs) {
    const where: string[] = [];
    const reasons = new Map<string, { path: Problem["path"]; why: string }>();
    for (const kind of UNPROTECTED_PIPELINES) {
      const workflow = workflowRules ? couldBeAdded(workflowRules, kind.context) : { possible: true, ruleVariables: [] };
      if (!workflow.possible) continue;
      const run = jobCouldRun(body, kind);
      if (!run.possible) continue;
      where.push(kind.name);
      const env = environmentName(body);
      if (env === FLEET_ENVIRONMENT) {
        reasons.set("environment", {
          path: [name, "environment"],
          why: `it names the environment ${env}, whose deploy credentials (${FLEET_CREDENTIALS.join(", ")}) GitLab hands to every job naming it`,
        });
      }
      const own = credentialVariables(asVariables(body.variables));
      if (own.length > 0) {
        reasons.set("variables", { path: [name, "variables", own[0] as string], why: `its variables hand it ${own.join(", ")}` });
      }
      const fromRules = [...workflow.ruleVariables, ...run.ruleVariables].flatMap(credentialVariables);
      if (fromRules.length > 0) {
        reasons.set("rules", {
          path: [name, "rules"],
          why: `the variables of its (or the workflow's) rules hand it ${[...new Set(fromRules)].join(", ")}`,
        });
      }
      if (globalCredentials.length > 0) {
        reasons.set("global", { path: [name], why: `the global variables hand every job ${globalCredentials.join(", ")}` });
      }
      const tags = Array.isArray(body.tags) ? body.tags.map(String) : [];
      const serving = tags.length > 0 ? pools.filter((p) => tags.every((t) => p.tags.has(t))) : [];
      for (const pool of serving.filter((p) => p.protected || p.dockerSocket)) {
        const what = pool.dockerSocket
          ? "whose jobs get the node's Docker socket, root on that Pi"
          : "whose protected runners never take it, so it would stay pending";
        reasons.set(`pool ${pool.name}`, { path: [name, "tags"], why: `its tags ${tags.join(", ")} put it on pool ${pool.name}, ${what}` });
      }
    }
    for (const { path, why } of reasons.values()) {
      problems.push({
        path,
        message:
          `${name} job: could run in ${[...new Set(where)].join(" and ")}, which any Developer can start with their own .gitlab-ci.yml, and ${why}; ` +
          "restrict it to the default branch and tags (rules: if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH, or $CI_COMMIT_TAG) or remove what it holds (docs/security.md, design D)",
        check: "fleet",
      });
    }
  }
  return problems;
}
