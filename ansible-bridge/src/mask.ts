/** What replaces a secret in any text pifleet shows or stores. */
export const MASK = "********";

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

// `token = "abc"`, `password: abc`, `"api_key": "abc"`: the value after a secret-looking key.
const SECRET_ASSIGNMENT =
  /((?:^|[\s{,"'])[\w.-]*(?:token|password|passwd|secret|private[_-]?key|api[_-]?key)[\w.-]*["']?\s*[=:]\s*)(["']?)([^\s"',}]+)\2/gim;

/**
 * Masks secrets in text: every known secret value, and the value of any
 * `name = value` / `name: value` whose name looks secret (config files in diffs).
 */
export function maskText(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const s of secrets) if (s) out = out.split(s).join(MASK);
  return out.replace(SECRET_ASSIGNMENT, (_m, key: string, quote: string, value: string) =>
    value === MASK ? `${key}${quote}${value}${quote}` : `${key}${quote}${MASK}${quote}`,
  );
}
