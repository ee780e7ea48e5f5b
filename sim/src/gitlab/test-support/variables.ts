import type { SimVariable } from "../ci-state.js";

let nextId = 1;

/** A project CI/CD variable as the state holds it: env_var, unprotected, unmasked, scope `*`, value `<key>-value` unless told. */
export function simVariable(key: string, fields: Partial<SimVariable> = {}): SimVariable {
  return {
    id: nextId++,
    project_id: 1,
    key,
    value: `${key.toLowerCase()}-value`,
    variable_type: "env_var",
    protected: false,
    masked: false,
    hidden: false,
    raw: false,
    environment_scope: "*",
    description: null,
    ...fields,
  };
}
