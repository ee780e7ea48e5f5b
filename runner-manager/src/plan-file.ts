import { readFile } from "node:fs/promises";
import { InputError } from "@pifleet/fleet";
import { writeFileAtomic } from "@pifleet/io";
import type { RunnerContext } from "./context.js";
import { type Fingerprint, fingerprint, fingerprintChanges } from "./fingerprint.js";
import { planFleet, type Reconciliation } from "./reconcile.js";
import { planToJson } from "./render-plan.js";
import type { Action, Plan, PlanOptions } from "./types.js";

/**
 * `runners plan --out FILE` / `runners apply FILE`: a plan saved as JSON (never
 * holding a token, readable by its owner only) with a fingerprint of what it
 * observed, run later exactly as shown — but only while the fleet still looks
 * the way it did, and only if its actions are what fleet.yaml gives: the runner
 * settings in the file are checked, never trusted as written.
 */

const VERSION = 2;
const REMAKE = "Make one with `pifleet runners plan --out FILE`.";

export interface SavedPlan {
  plan: Plan;
  observed: Fingerprint;
}

export async function writePlanFile(path: string, made: Reconciliation): Promise<void> {
  const saved = { ...planToJson(made.plan), version: VERSION, observed: fingerprint(made.desired, made.observed) };
  // 0600: the plan shows the fleet's runner settings, nodes and GitLab ids; others on the machine need none of it.
  await writeFileAtomic(path, `${JSON.stringify(saved, null, 2)}\n`, { mode: 0o600 });
}

export async function readPlanFile(path: string, cluster: string): Promise<SavedPlan> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, "utf8"));
  } catch (err) {
    throw new InputError(`${path}: not a readable plan file (${(err as Error).message})`, REMAKE);
  }
  const p = raw as Partial<Plan> & { version?: unknown; observed?: Partial<Fingerprint> };
  if (p.version === 1) {
    throw new InputError(
      `${path}: a version-1 runner plan, saved without a fingerprint of what it observed, so pifleet cannot tell whether it still fits`,
      REMAKE,
    );
  }
  const o = p.observed;
  if (
    p.version !== VERSION ||
    !Array.isArray(p.actions) ||
    !Array.isArray(p.notes) ||
    !Array.isArray(p.skippedNodes) ||
    typeof o?.sha256 !== "string" ||
    typeof o.fleet !== "string" ||
    !Array.isArray(o.runners) ||
    !Array.isArray(o.nodes)
  ) {
    throw new InputError(`${path}: not a pifleet runner plan (version ${VERSION})`, REMAKE);
  }
  if (p.cluster !== cluster) {
    throw new InputError(
      `${path}: plan is for cluster ${String(p.cluster)}, but fleet.yaml describes ${cluster}`,
      "Use the fleet file the plan was made from.",
    );
  }
  return {
    plan: { cluster, actions: p.actions, notes: p.notes, skippedNodes: p.skippedNodes },
    observed: { sha256: o.sha256, fleet: o.fleet, runners: o.runners, nodes: o.nodes },
  };
}

/** Refuses (exit 2) a saved plan whose world has changed, saying what changed; pure. */
export function checkPlanFresh(path: string, saved: SavedPlan, now: Fingerprint): void {
  const changes = fingerprintChanges(saved.observed, now);
  if (changes.length === 0) return;
  const shown = changes.length > 5 ? [...changes.slice(0, 5), `and ${changes.length - 5} more`] : changes;
  throw new InputError(
    `the plan in ${path} was made against a fleet that has changed since (${shown.join("; ")}); run \`pifleet runners plan --out ${path}\` again`,
    "A saved plan is applied only to the GitLab runners and config.toml files it was made against.",
  );
}

/** Where gitlab-runner restarts depends on which node runs the apply (restart.ts), not on the plan: not compared. */
const comparable = (a: Action): string => {
  if (a.kind !== "write-config") return JSON.stringify(a);
  const { restart: _where, ...rest } = a;
  return JSON.stringify(rest);
};

const described = (a: Action): string => `${a.kind} ${"key" in a ? a.key : a.node}`;

/**
 * Refuses (exit 2) a saved plan whose actions are not the ones fleet.yaml gives for the world both saw
 * (an edited file, or one whose fingerprint was copied onto other actions); pure. The fingerprint
 * already matched, so the planner, being deterministic, must give the same actions.
 */
export function checkPlanMatchesFleet(path: string, saved: Plan, fresh: Plan): void {
  const want = fresh.actions.map(comparable);
  const have = saved.actions.map(comparable);
  if (want.length === have.length && want.every((a, i) => a === have[i])) return;
  const extra = saved.actions.filter((a) => !want.includes(comparable(a))).map((a) => `${described(a)} is not in it`);
  const missing = fresh.actions.filter((a) => !have.includes(comparable(a))).map((a) => `${described(a)} is missing`);
  const found = [...extra, ...missing];
  const shown =
    found.length === 0
      ? ["the same actions in another order, or one repeated"]
      : found.length > 5
        ? [...found.slice(0, 5), `and ${found.length - 5} more`]
        : found;
  throw new InputError(
    `the plan in ${path} holds actions that fleet.yaml does not give for this fleet (${shown.join("; ")}); run \`pifleet runners plan --out ${path}\` again`,
    "A saved plan's runner settings are checked against fleet.yaml, never trusted as written: make the plan again from the fleet file.",
  );
}

/**
 * `runners apply FILE`: reads the plan, observes the fleet again and returns the plan only if nothing it read has
 * changed and its actions are what fleet.yaml gives. The returned actions are the fresh plan's (equal but for where
 * a restart waits, which belongs to this run). `options` are the apply's own (selfNode).
 */
export async function readFreshPlan(path: string, ctx: RunnerContext, options: PlanOptions = {}): Promise<Plan> {
  const saved = await readPlanFile(path, ctx.fleet.cluster);
  const now = await planFleet(ctx.fleet, ctx.api, ctx.nodes, options);
  checkPlanFresh(path, saved, fingerprint(now.desired, now.observed));
  checkPlanMatchesFleet(path, saved.plan, now.plan);
  return { ...saved.plan, actions: now.plan.actions };
}
