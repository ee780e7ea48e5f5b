import { InputError } from "@pifleet/fleet";
import { isNeedSpec, neededJob } from "../model/job.js";
import type { Job, Need, PipelineSpec, Rule, TriggerInclude } from "../model/types.js";
import { toGitlabKeys } from "./keys.js";

/** A rendered .gitlab-ci.yml: plain data with GitLab's keys, ready for YAML. */
export type GitlabCiDocument = Record<string, unknown>;

/** Every job a job refers to, with the keyword that refers to it. */
function references(j: Job): Array<{ keyword: string; target: Job }> {
  const out: Array<{ keyword: string; target: Job }> = [];
  for (const n of j.needs ?? []) out.push({ keyword: "needs", target: neededJob(n) });
  for (const d of j.dependencies ?? []) out.push({ keyword: "dependencies", target: d });
  for (const e of j.extends ?? []) out.push({ keyword: "extends", target: e });
  for (const r of j.rules ?? []) for (const n of r.needs ?? []) out.push({ keyword: "rules:needs", target: neededJob(n) });
  if (j.environment?.onStop) out.push({ keyword: "environment:on_stop", target: j.environment.onStop });
  for (const i of j.trigger?.include ?? []) if ("job" in i) out.push({ keyword: "trigger:include:job", target: i.job });
  return out;
}

/**
 * Checks what only the object model can know: two jobs with one name, and a
 * reference to a job object that was never added (e.g. the definition of a
 * per-node job instead of one of its instances).
 */
function checkJobSet(jobs: readonly Job[]): void {
  const problems: string[] = [];
  const byName = new Map<string, Job>();
  for (const j of jobs) {
    if (byName.has(j.name)) problems.push(`two jobs are named "${j.name}"; give one a different name, prefix or suffix`);
    byName.set(j.name, j);
  }
  const members = new Set(jobs);
  for (const j of jobs) {
    for (const { keyword, target } of references(j)) {
      if (!members.has(target)) {
        problems.push(
          `job "${j.name}" ${keyword}: "${target.name}" is not part of this pipeline; add that job, or refer to the instance that was added`,
        );
      }
    }
  }
  if (problems.length > 0) throw new InputError(`cannot render the pipeline:\n  ${problems.join("\n  ")}`);
}

function renderNeed(n: Need): unknown {
  if (!isNeedSpec(n)) return n.name;
  return { ...n, job: n.job.name };
}

function renderRule(r: Rule): unknown {
  return r.needs ? { ...r, needs: r.needs.map(renderNeed) } : r;
}

function renderTriggerInclude(i: TriggerInclude): unknown {
  return "job" in i ? { ...i, job: i.job.name } : i;
}

/** A job's body with job objects replaced by their names, still camelCase. */
function jobBody(j: Job): Record<string, unknown> {
  const { name: _name, ...body } = j;
  return {
    ...body,
    extends: j.extends ? (j.extends.length === 1 ? j.extends[0]?.name : j.extends.map((e) => e.name)) : undefined,
    needs: j.needs?.map(renderNeed),
    dependencies: j.dependencies?.map((d) => d.name),
    rules: j.rules?.map(renderRule),
    environment: j.environment ? { ...j.environment, onStop: j.environment.onStop?.name } : undefined,
    trigger: j.trigger ? { ...j.trigger, include: j.trigger.include?.map(renderTriggerInclude) } : undefined,
  };
}

/** Stages in first-seen job order; hidden templates and .pre/.post do not add stages. */
export function deriveStages(jobs: readonly Job[]): string[] {
  const seen: string[] = [];
  for (const j of jobs) {
    const stage = j.stage ?? "test";
    if (j.name.startsWith(".") || stage === ".pre" || stage === ".post") continue;
    if (!seen.includes(stage)) seen.push(stage);
  }
  return seen;
}

/**
 * The model → GitLab's document. Global keywords first, then hidden templates,
 * then jobs in the order they were given. Pure: same spec, same document.
 */
export function renderPipeline(spec: PipelineSpec): GitlabCiDocument {
  checkJobSet(spec.jobs);
  const globals = toGitlabKeys(
    {
      default: spec.default,
      include: spec.include,
      stages: spec.stages ?? deriveStages(spec.jobs),
      variables: spec.variables,
      workflow: spec.workflow,
    },
    "root",
  ) as GitlabCiDocument;
  const templates = spec.jobs.filter((j) => j.name.startsWith("."));
  const visible = spec.jobs.filter((j) => !j.name.startsWith("."));
  const doc: GitlabCiDocument = { ...globals };
  for (const j of [...templates, ...visible]) doc[j.name] = toGitlabKeys(jobBody(j), "job");
  return doc;
}
