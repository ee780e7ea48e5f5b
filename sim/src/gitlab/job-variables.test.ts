import { describe, expect, it } from "vitest";
import type { SimVariable } from "./ci-state.js";
import { scopeMatches, variablesForJob } from "./job-variables.js";

let nextId = 1;
const variable = (key: string, fields: Partial<SimVariable> = {}): SimVariable => ({
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
});

const keys = (list: { key: string; value: string }[]) => list.map((v) => `${v.key}=${v.value}`);

describe("variablesForJob (what GitLab hands a job)", () => {
  const all = [
    variable("PLAIN"),
    variable("SSH_KEY", { protected: true, variable_type: "file" }),
    variable("TOKEN", { value: "any" }),
    variable("TOKEN", { value: "prod", environment_scope: "production" }),
    variable("REVIEW", { environment_scope: "review/*" }),
  ];

  it("protected variables only on protected refs; no environment: only * scopes", () => {
    expect(keys(variablesForJob(all, { protectedRef: false }))).toEqual(["PLAIN=plain-value", "TOKEN=any"]);
    expect(keys(variablesForJob(all, { protectedRef: true }))).toEqual(["PLAIN=plain-value", "SSH_KEY=ssh_key-value", "TOKEN=any"]);
  });

  it("an environment gets its own scope, winning over *; wildcards match", () => {
    expect(keys(variablesForJob(all, { protectedRef: true, environment: "production" }))).toEqual([
      "PLAIN=plain-value",
      "SSH_KEY=ssh_key-value",
      "TOKEN=prod",
    ]);
    expect(keys(variablesForJob(all, { protectedRef: false, environment: "review/mr-7" }))).toEqual([
      "PLAIN=plain-value",
      "TOKEN=any",
      "REVIEW=review-value",
    ]);
  });

  it("file variables are marked so the runner writes them to a file", () => {
    expect(variablesForJob(all, { protectedRef: true }).find((v) => v.key === "SSH_KEY")).toMatchObject({ file: true });
  });

  it("scopeMatches: * anywhere, everything else literal", () => {
    expect(scopeMatches("*", "x")).toBe(true);
    expect(scopeMatches("review/*", "review/a/b")).toBe(true);
    expect(scopeMatches("review/*", "staging")).toBe(false);
    expect(scopeMatches("prod.eu", "prodXeu")).toBe(false);
  });
});
