import { Secret } from "@pifleet/io";
import { describe, expect, it } from "vitest";
import { type DesiredVariable, desiredVariables, type ExistingVariable, planVariables, variableBody } from "./variables.js";

const inputs = {
  sshKey: new Secret("-----BEGIN KEY-----\nsecret-key\n-----END KEY-----\n"),
  fleetToken: new Secret("glpat-fleetfleetfleet"),
  planSshKey: new Secret("-----BEGIN KEY-----\nplan-key\n-----END KEY-----\n"),
  planToken: new Secret("glpat-planplanplan"),
  buildProxy: "http://198.18.0.1:3142",
  images: { PIFLEET_NODE_IMAGE: "r:5000/mirror/node:20-bookworm", PIFLEET_DEBIAN_IMAGE: "r:5000/mirror/debian:bookworm-slim" },
};

const asExisting = (d: DesiredVariable, change: Partial<ExistingVariable> = {}): ExistingVariable => ({
  ...(variableBody(d) as Omit<ExistingVariable, "value"> & { value: string }),
  ...change,
});

describe("desiredVariables", () => {
  const desired = desiredVariables(inputs);
  const byKey = new Map(desired.map((d) => [d.key, d]));

  it("hands the key over as file variables, protected for the fleet's jobs and unprotected for plans", () => {
    expect(byKey.get("PIFLEET_SSH_KEY")).toMatchObject({ variable_type: "file", protected: true, masked: false });
    expect(byKey.get("PIFLEET_PLAN_SSH_KEY")).toMatchObject({ variable_type: "file", protected: false, masked: false });
  });

  it("masks both tokens; only the fleet's is protected", () => {
    expect(byKey.get("GITLAB_TOKEN")).toMatchObject({ variable_type: "env_var", protected: true, masked: true });
    expect(byKey.get("PIFLEET_PLAN_TOKEN")).toMatchObject({ variable_type: "env_var", protected: false, masked: true });
  });

  it("adds the build proxy and each image, sorted by key, as plain variables", () => {
    expect(desired.map((d) => d.key).slice(4)).toEqual(["PIFLEET_BUILD_PROXY", "PIFLEET_DEBIAN_IMAGE", "PIFLEET_NODE_IMAGE"]);
    expect(byKey.get("PIFLEET_DEBIAN_IMAGE")).toMatchObject({
      value: "r:5000/mirror/debian:bookworm-slim",
      protected: false,
      masked: false,
    });
    expect(desiredVariables({ ...inputs, images: {} }).map((d) => d.key)).not.toContain("PIFLEET_NODE_IMAGE");
  });

  it("leaves out what the inputs do not give: the key and the fleet's token alone (a real GitLab's bootstrap)", () => {
    const { sshKey, fleetToken } = inputs;
    const minimal = desiredVariables({ sshKey, fleetToken });
    expect(minimal.map((d) => [d.key, d.variable_type, d.protected, d.masked])).toEqual([
      ["PIFLEET_SSH_KEY", "file", true, false],
      ["GITLAB_TOKEN", "env_var", true, true],
    ]);
    // Variables not desired are not touched: a plan token set by someone else stays.
    const planToken = asExisting(byKey.get("PIFLEET_PLAN_TOKEN") as DesiredVariable);
    expect(planVariables(minimal, [planToken])).toEqual({ create: minimal, update: [], unchanged: [] });
  });

  it("gives the plan jobs their own key when one is given", () => {
    expect(byKey.get("PIFLEET_PLAN_SSH_KEY")?.value).toBe(inputs.planSshKey);
  });

  it("never shows a secret when printed or serialised; the request body is the one place it is revealed", () => {
    const text = `${JSON.stringify(desired)} ${String(byKey.get("GITLAB_TOKEN")?.value)}`;
    expect(text).not.toContain("glpat-");
    expect(text).not.toContain("secret-key");
    expect(text).not.toContain("plan-key");
    expect(variableBody(byKey.get("GITLAB_TOKEN") as DesiredVariable)).toMatchObject({
      key: "GITLAB_TOKEN",
      value: "glpat-fleetfleetfleet",
      raw: true,
      environment_scope: "*",
    });
  });
});

describe("planVariables", () => {
  const desired = desiredVariables(inputs);
  const keys = (list: DesiredVariable[]) => list.map((d) => d.key);

  it("creates every variable of an empty project", () => {
    expect(keys(planVariables(desired, []).create)).toEqual(keys(desired));
  });

  it("leaves what is already as wanted, and variables pifleet does not set", () => {
    const other: ExistingVariable = {
      key: "MY_OWN",
      value: "x",
      variable_type: "env_var",
      protected: false,
      masked: false,
      raw: false,
      environment_scope: "*",
    };
    const plan = planVariables(desired, [...desired.map((d) => asExisting(d)), other]);
    expect(plan).toEqual({ create: [], update: [], unchanged: desired });
  });

  it("updates a variable whose value or any attribute differs", () => {
    const [key, , token, , proxy, debian, node] = desired as [DesiredVariable, ...DesiredVariable[]];
    const existing = [
      asExisting(key, { protected: false }),
      asExisting(token as DesiredVariable, { value: "glpat-revoked-one" }),
      asExisting(proxy as DesiredVariable, { raw: false }),
      asExisting(debian as DesiredVariable, { variable_type: "file" }),
      asExisting(node as DesiredVariable, { masked: true }),
    ];
    const plan = planVariables(desired, existing);
    expect(keys(plan.update)).toEqual([
      "PIFLEET_SSH_KEY",
      "GITLAB_TOKEN",
      "PIFLEET_BUILD_PROXY",
      "PIFLEET_DEBIAN_IMAGE",
      "PIFLEET_NODE_IMAGE",
    ]);
    expect(keys(plan.create)).toEqual(["PIFLEET_PLAN_SSH_KEY", "PIFLEET_PLAN_TOKEN"]);
  });

  it("counts only the `*` scope: the same key scoped to an environment is another variable", () => {
    const scoped = desired.map((d) => asExisting(d, { environment_scope: "production" }));
    expect(keys(planVariables(desired, scoped).create)).toEqual(keys(desired));
  });
});
