import { scrubTokens } from "@pifleet/io";
import type { AnsibleEvent, Diff } from "./events.js";

/**
 * Which extra variables are secret, and Ansible's events with them masked.
 * The masking itself is @pifleet/io's one function (scrubTokens): this adds only what Ansible knows.
 */

/** Variable or setting names whose values are secret wherever they appear. */
const SECRET_NAME = /(token|password|passwd|secret|private[_-]?key|api[_-]?key|credential)/i;

/** True for a variable name that holds a secret (e.g. gitlab_runner_token). */
export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/**
 * The secret values among variables: every string under a secret-looking name,
 * at any depth. Short values (< 4 chars) are ignored: masking "1" everywhere
 * would garble a report without protecting anything.
 */
export function secretValues(vars: Record<string, unknown>): string[] {
  const out = new Set<string>();
  const walk = (value: unknown, secret: boolean) => {
    if (typeof value === "string" && secret && value.length >= 4) out.add(value);
    else if (Array.isArray(value)) for (const v of value) walk(v, secret);
    else if (typeof value === "object" && value !== null) for (const [k, v] of Object.entries(value)) walk(v, secret || isSecretName(k));
  };
  walk(vars, false);
  return [...out].sort((a, b) => b.length - a.length);
}

function maskDiff(d: Diff, secrets: readonly string[]): Diff {
  const out: Diff = {};
  for (const k of ["header", "before", "after", "prepared"] as const) {
    const v = d[k];
    if (v !== undefined) out[k] = scrubTokens(v, secrets);
  }
  return out;
}

/** An event with every text Ansible gave it masked, before anything stores, shows or prints it (--json included). */
export function maskEvent(e: AnsibleEvent, secrets: readonly string[]): AnsibleEvent {
  if (e.kind === "log") return { ...e, text: scrubTokens(e.text, secrets) };
  if (e.kind === "task" || e.kind === "play") return { ...e, name: scrubTokens(e.name, secrets) };
  if (e.kind !== "result") return e;
  return {
    ...e,
    task: scrubTokens(e.task, secrets),
    ...(e.message !== undefined ? { message: scrubTokens(e.message, secrets) } : {}),
    diffs: e.diffs.map((d) => maskDiff(d, secrets)),
  };
}
