import type { SimVariable } from "./ci-state.js";

/**
 * Ci::Variable's validations with GitLab's messages (app/models/concerns/ci/has_variable.rb,
 * ci/maskable.rb, has_environment_scope.rb, app/models/ci/variable.rb). The messages never contain
 * the value: a masked value must not leak through an error.
 */

/** Ci::Maskable::REGEX: one line, no spaces, at least 8 characters of the Base64 alphabet plus @ : . ~ */
export const MASKED_REGEX = /^[a-zA-Z0-9_+=/@:.~-]{8,}$/;
/** Ci::Maskable::MASK_AND_RAW_REGEX (raw, that is unexpanded, variables): one line, no whitespace, at least 8 characters. */
export const MASKED_RAW_REGEX = /^\S{8,}$/;
const KEY_REGEX = /^[a-zA-Z0-9_]+$/;
/** Gitlab::Regex.environment_scope_regex: environment name characters, with * as a wildcard. */
const ENVIRONMENT_SCOPE_REGEX = /^[a-zA-Z0-9_/${}. *-]+$/;
const MAX_KEY_LENGTH = 255;
const MAX_DESCRIPTION_LENGTH = 255;

type Checked = Pick<SimVariable, "key" | "value" | "masked" | "raw" | "environment_scope" | "description">;

export function variableValidationErrors(v: Checked, others: readonly SimVariable[]): Record<string, string[]> {
  const errors: Record<string, string[]> = {};
  const add = (field: string, message: string) => {
    errors[field] = [...(errors[field] ?? []), message];
  };
  if (v.key.length === 0) add("key", "can't be blank");
  if (v.key.length > MAX_KEY_LENGTH) add("key", `is too long (maximum is ${MAX_KEY_LENGTH} characters)`);
  if (!KEY_REGEX.test(v.key)) add("key", "can contain only letters, digits and '_'.");
  if (v.masked && !(v.raw ? MASKED_RAW_REGEX : MASKED_REGEX).test(v.value)) add("value", "is invalid");
  if (v.environment_scope.length === 0) add("environment_scope", "can't be blank");
  else if (!ENVIRONMENT_SCOPE_REGEX.test(v.environment_scope)) {
    add("environment_scope", "can contain only letters, digits, '-', '_', '/', '$', '{', '}', '.', '*' and spaces");
  }
  if (v.description !== null && v.description.length > MAX_DESCRIPTION_LENGTH) {
    add("description", `is too long (maximum is ${MAX_DESCRIPTION_LENGTH} characters)`);
  }
  if (others.some((o) => o.key === v.key && o.environment_scope === v.environment_scope)) add("key", `(${v.key}) has already been taken`);
  return errors;
}
