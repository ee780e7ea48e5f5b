import { orderedKeys } from "./order.js";

/**
 * camelCase model keys → GitLab's snake_case keys, in one place.
 *
 * Keys the user owns keep their spelling and order: job names (top-level
 * keys, handled by the renderer), and the keys of the maps under these
 * keywords, wherever they appear. Each maps to the context its values are
 * rendered in (a variable's {value, description} is model data again).
 */
export const USER_OWNED_MAPS: Readonly<Record<string, string>> = {
  variables: "variable",
  inputs: "input",
  id_tokens: "id_token",
  // parallel:matrix entries are keyed by CI/CD variable names.
  matrix: "matrix_values",
};

export function snakeCase(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isEmpty(v: unknown): boolean {
  if (Array.isArray(v)) return v.length === 0;
  return isPlainObject(v) && Object.keys(v).length === 0;
}

/**
 * Converts every key to snake_case except in user-owned maps, orders keys as
 * GitLab's docs list them (see order.ts), and drops undefined values and empty
 * lists/maps, so the YAML never carries empty keys.
 * `parent` is the snake_case keyword the value sits under ("job" for a job body).
 */
export function toGitlabKeys(value: unknown, parent: string): unknown {
  if (Array.isArray(value)) return value.map((item) => toGitlabKeys(item, parent));
  if (!isPlainObject(value)) return value;
  const owned = Object.hasOwn(USER_OWNED_MAPS, parent) ? USER_OWNED_MAPS[parent] : undefined;
  if (owned !== undefined) {
    return Object.fromEntries(Object.entries(value).flatMap(([k, v]) => (v === undefined ? [] : [[k, toGitlabKeys(v, owned)]])));
  }
  const converted = new Map<string, unknown>();
  for (const [key, v] of Object.entries(value)) {
    // `needs: []` is meaningful (start at once, ignoring stages), so it stays.
    if (v === undefined || (key !== "needs" && isEmpty(v))) continue;
    const snake = snakeCase(key);
    converted.set(snake, toGitlabKeys(v, snake));
  }
  const out: Record<string, unknown> = {};
  for (const key of orderedKeys(parent, [...converted.keys()])) out[key] = converted.get(key);
  return out;
}
