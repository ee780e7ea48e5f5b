import { describe, expect, it } from "vitest";
import { scopeMatches, variablesForJob } from "./job-variables.js";
import { simVariable as variable } from "./test-support/variables.js";

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
