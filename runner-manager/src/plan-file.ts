import { readFile } from "node:fs/promises";
import { InputError } from "@pifleet/fleet";
import { writeFileAtomic } from "@pifleet/io";
import type { RunnerContext } from "./context.js";
import { type Fingerprint, fingerprint, fingerprintChanges } from "./fingerprint.js";
import { planFleet, type Reconciliation } from "./reconcile.js";
import { planToJson } from "./render-plan.js";
import type { Plan } from "./types.js";

/**
 * `runners plan --out FILE` / `runners apply FILE`: a plan saved as JSON (never
 * holding a token) with a fingerprint of what it observed, run later exactly
 * as shown — but only while the fleet still looks the way it did.
 */

const VERSION = 2;
const REMAKE = "Make one with `pifleet runners plan --out FILE`.";

export interface SavedPlan {
  plan: Plan;
  observed: Fingerprint;
}

export async function writePlanFile(path: string, made: Reconciliation): Promise<void> {
  const saved = { ...planToJson(made.plan), version: VERSION, observed: fingerprint(made.desired, made.observed) };
  await writeFileAtomic(path, `${JSON.stringify(saved, null, 2)}\n`, { mode: 0o644 });
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

/** `runners apply FILE`: reads the plan, observes the fleet again and returns the plan only if nothing it read has changed. */
export async function readFreshPlan(path: string, ctx: RunnerContext): Promise<Plan> {
  const saved = await readPlanFile(path, ctx.fleet.cluster);
  const now = await planFleet(ctx.fleet, ctx.api, ctx.nodes);
  checkPlanFresh(path, saved, fingerprint(now.desired, now.observed));
  return saved.plan;
}
