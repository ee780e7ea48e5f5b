import { randomBytes } from "node:crypto";
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import { InputError } from "@pifleet/fleet";
import { planToJson } from "./render-plan.js";
import type { Plan } from "./types.js";

/** `runners plan --out FILE` / `runners apply FILE`: a plan saved as JSON (never holding a token) and run later exactly as shown. */

export async function writePlanFile(path: string, plan: Plan): Promise<void> {
  const tmp = `${path}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    await writeFile(tmp, `${JSON.stringify(planToJson(plan), null, 2)}\n`, { mode: 0o644 });
    await rename(tmp, path);
  } finally {
    await rm(tmp, { force: true });
  }
}

export async function readPlanFile(path: string, cluster: string): Promise<Plan> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, "utf8"));
  } catch (err) {
    throw new InputError(
      `${path}: not a readable plan file (${(err as Error).message})`,
      "Make one with `pifleet runners plan --out FILE`.",
    );
  }
  const p = raw as Partial<Plan> & { version?: unknown };
  if (p.version !== 1 || !Array.isArray(p.actions) || !Array.isArray(p.notes) || !Array.isArray(p.skippedNodes)) {
    throw new InputError(`${path}: not a pifleet runner plan (version 1)`, "Make one with `pifleet runners plan --out FILE`.");
  }
  if (p.cluster !== cluster) {
    throw new InputError(
      `${path}: plan is for cluster ${String(p.cluster)}, but fleet.yaml describes ${cluster}`,
      "Use the fleet file the plan was made from.",
    );
  }
  return { cluster, actions: p.actions, notes: p.notes, skippedNodes: p.skippedNodes };
}
