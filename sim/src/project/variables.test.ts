import { Secret } from "@pifleet/io";
import { describe, expect, it } from "vitest";
import {
  type DesiredVariable,
  desiredVariables,
  type ExistingVariable,
  FLEET_ENVIRONMENT,
  planVariables,
  RETIRED_KEYS,
  variableBody,
} from "./variables.js";

const inputs = {
  sshKey: new Secret("-----BEGIN KEY-----\nsecret-key\n-----END KEY-----\n"),
  fleetToken: new Secret("glpat-fleetfleetfleet"),
  noteToken: new Secret("glpat-notenotenote"),
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

  it("gives the key and the runner manager's token to the fleet's environment only, protected", () => {
    expect(byKey.get("PIFLEET_SSH_KEY")).toMatchObject({
      variable_type: "file",
      protected: true,
      masked: false,
      environment_scope: FLEET_ENVIRONMENT,
    });
    expect(byKey.get("GITLAB_TOKEN")).toMatchObject({
      variable_type: "env_var",
      protected: true,
      masked: true,
      environment_scope: FLEET_ENVIRONMENT,
    });
  });

  it("gives every job the masked note token, and sets no plan key or plan token any more", () => {
    expect(byKey.get("PIFLEET_NOTE_TOKEN")).toMatchObject({
      variable_type: "env_var",
      protected: false,
      masked: true,
      environment_scope: "*",
    });
    for (const key of RETIRED_KEYS) expect(byKey.has(key), key).toBe(false);
  });

  it("holds no key and no Maintainer or admin token in any unprotected variable, or in any variable every job gets", () => {
    const strong = [inputs.sshKey.reveal(), inputs.fleetToken.reveal()];
    for (const d of desired.filter((v) => !v.protected || v.environment_scope === "*")) {
      const value = typeof d.value === "string" ? d.value : d.value.reveal();
      expect(strong, d.key).not.toContain(value);
      expect(value, d.key).not.toMatch(/PRIVATE KEY|BEGIN KEY/);
      expect(d.variable_type === "file" && d.protected === false, d.key).toBe(false);
    }
  });

  it("adds the build proxy and each image, sorted by key, as plain variables", () => {
    expect(desired.map((d) => d.key).slice(3)).toEqual(["PIFLEET_BUILD_PROXY", "PIFLEET_DEBIAN_IMAGE", "PIFLEET_NODE_IMAGE"]);
    expect(byKey.get("PIFLEET_DEBIAN_IMAGE")).toMatchObject({
      value: "r:5000/mirror/debian:bookworm-slim",
      protected: false,
      masked: false,
    });
    expect(desiredVariables({ ...inputs, images: {} }).map((d) => d.key)).not.toContain("PIFLEET_NODE_IMAGE");
  });

  it("leaves out what the inputs do not give: the key and the fleet's token alone", () => {
    const { sshKey, fleetToken } = inputs;
    const minimal = desiredVariables({ sshKey, fleetToken });
    expect(minimal.map((d) => [d.key, d.variable_type, d.protected, d.masked])).toEqual([
      ["PIFLEET_SSH_KEY", "file", true, false],
      ["GITLAB_TOKEN", "env_var", true, true],
    ]);
    // Variables not desired are not touched: a note token set by someone else stays.
    const noteToken = asExisting(byKey.get("PIFLEET_NOTE_TOKEN") as DesiredVariable);
    expect(planVariables(minimal, [noteToken])).toEqual({ create: minimal, update: [], unchanged: [], remove: [] });
  });

  it("never shows a secret when printed or serialised; the request body is the one place it is revealed", () => {
    const text = `${JSON.stringify(desired)} ${String(byKey.get("GITLAB_TOKEN")?.value)}`;
    expect(text).not.toContain("glpat-");
    expect(text).not.toContain("secret-key");
    expect(variableBody(byKey.get("GITLAB_TOKEN") as DesiredVariable)).toMatchObject({
      key: "GITLAB_TOKEN",
      value: "glpat-fleetfleetfleet",
      raw: true,
      environment_scope: FLEET_ENVIRONMENT,
    });
  });
});

describe("planVariables", () => {
  const desired = desiredVariables(inputs);
  const keys = (list: { key: string }[]) => list.map((d) => d.key);

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
    expect(plan).toEqual({ create: [], update: [], unchanged: desired, remove: [] });
  });

  it("updates a variable whose value or any attribute differs", () => {
    const [key, token, , proxy, debian, node] = desired as [DesiredVariable, ...DesiredVariable[]];
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
    expect(keys(plan.create)).toEqual(["PIFLEET_NOTE_TOKEN"]);
  });

  it("moves the key and token out of scope `*` and removes the retired plan key and token (what an older pifleet set)", () => {
    const older = [
      ...desired.map((d) => asExisting(d, { environment_scope: "*" })),
      asExisting(desired[0] as DesiredVariable, { key: "PIFLEET_PLAN_SSH_KEY", protected: false, environment_scope: "*" }),
      asExisting(desired[1] as DesiredVariable, { key: "PIFLEET_PLAN_TOKEN", protected: false, environment_scope: "*" }),
    ];
    const plan = planVariables(desired, older);
    expect(keys(plan.create)).toEqual(["PIFLEET_SSH_KEY", "GITLAB_TOKEN"]);
    expect(plan.remove.map((v) => `${v.key} ${v.environment_scope}`)).toEqual([
      "PIFLEET_SSH_KEY *",
      "GITLAB_TOKEN *",
      "PIFLEET_PLAN_SSH_KEY *",
      "PIFLEET_PLAN_TOKEN *",
    ]);
  });
});
