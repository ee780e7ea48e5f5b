import type { Environment, Job, JobSpec, Need, NeedSpec, Rule, Trigger, Variables } from "./types.js";

/** Makes a job. Needs and dependencies are other Job objects, so TypeScript checks them. */
export function job(name: string, spec: JobSpec): Job {
  return { name, ...spec };
}

/** Makes a hidden template job (".name") for `extends`. */
export function template(name: string, spec: JobSpec): Job {
  return job(name.startsWith(".") ? name : `.${name}`, spec);
}

export function isNeedSpec(need: Need): need is NeedSpec {
  // A Job always has a name; a NeedSpec never does.
  return !("name" in need);
}

/** The job a need points at. */
export function neededJob(need: Need): Job {
  return isNeedSpec(need) ? need.job : need;
}

/** How one instance of a job group differs from the definition. */
export interface Instance {
  /** Put before every job name, e.g. "pi1:" */
  readonly prefix?: string;
  /** Put after every job name, e.g. ":pi1" */
  readonly suffix?: string;
  /** Added to (and overriding) each job's variables. */
  readonly variables?: Variables;
}

/**
 * Instantiates a group of jobs once, renaming each with the prefix/suffix.
 * References between members of the group (needs, dependencies, rules:needs,
 * environment:on_stop, trigger artifacts) follow to the same instance;
 * references to jobs outside the group are kept as they are.
 */
export function instantiate(group: readonly Job[], instance: Instance): Job[] {
  const copies = new Map<Job, Job>();
  const follow = (j: Job): Job => copies.get(j) ?? j;
  const followNeed = (n: Need): Need => (isNeedSpec(n) ? { ...n, job: follow(n.job) } : follow(n));
  // First pass creates the copies so second-pass references can find them.
  for (const original of group) {
    copies.set(original, { ...original, name: `${instance.prefix ?? ""}${original.name}${instance.suffix ?? ""}` });
  }
  for (const [original, copy] of copies) {
    const mutable = copy as { -readonly [K in keyof Job]: Job[K] };
    if (original.needs) mutable.needs = original.needs.map(followNeed);
    if (original.dependencies) mutable.dependencies = original.dependencies.map(follow);
    if (original.rules) mutable.rules = original.rules.map((r): Rule => (r.needs ? { ...r, needs: r.needs.map(followNeed) } : r));
    if (original.environment?.onStop)
      mutable.environment = { ...original.environment, onStop: follow(original.environment.onStop) } as Environment;
    if (original.trigger?.include) {
      mutable.trigger = {
        ...original.trigger,
        include: original.trigger.include.map((i) => ("job" in i ? { ...i, job: follow(i.job) } : i)),
      } as Trigger;
    }
    if (instance.variables) mutable.variables = { ...original.variables, ...instance.variables };
  }
  return [...copies.values()];
}

/** Instantiates the group once per item (e.g. per Pi or per environment), in item order. */
export function forEachItem<T>(items: readonly T[], group: readonly Job[], instanceFor: (item: T) => Instance): Job[] {
  return items.flatMap((item) => instantiate(group, instanceFor(item)));
}
