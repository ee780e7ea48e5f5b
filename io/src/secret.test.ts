import { inspect } from "node:util";
import { EnvironmentError } from "@pifleet/fleet";
import { describe, expect, it } from "vitest";
import { Secret, scrubTokens, secretFromEnv } from "./secret.js";

const VALUE = "glpat-abcdefghijklmnop1234";

describe("Secret", () => {
  const secret = new Secret(VALUE);

  it("shows [redacted] wherever it is printed", () => {
    expect(String(secret)).toBe("[redacted]");
    expect(`${secret}`).toBe("[redacted]");
    expect(JSON.stringify({ token: secret })).toBe('{"token":"[redacted]"}');
    expect(inspect({ token: secret })).not.toContain(VALUE);
    expect(inspect(secret, { showHidden: true, depth: 5 })).not.toContain(VALUE);
  });

  it("gives its value only through reveal()", () => {
    expect(secret.reveal()).toBe(VALUE);
  });
});

describe("scrubTokens", () => {
  it("removes GitLab-shaped tokens and known secrets", () => {
    const text = `401 for glrt-0123456789abcdef and ${VALUE}; also s3cret-value`;
    const out = scrubTokens(text, ["s3cret-value"]);
    expect(out).toBe("401 for [redacted] and [redacted]; also [redacted]");
  });

  it("accepts Secret values as known", () => {
    expect(scrubTokens("job token abcdef123456 leaked", [new Secret("abcdef123456")])).toBe("job token [redacted] leaked");
  });

  it("does not blank short known values (they would match ordinary words)", () => {
    expect(scrubTokens("the pi node", ["pi"])).toBe("the pi node");
  });
});

describe("secretFromEnv", () => {
  it("reads the variable", () => {
    expect(secretFromEnv("TOKEN", { TOKEN: "value123" }).reveal()).toBe("value123");
  });

  it("is an EnvironmentError naming the variable when unset or empty", () => {
    expect(() => secretFromEnv("GITLAB_TOKEN", {})).toThrow(EnvironmentError);
    expect(() => secretFromEnv("GITLAB_TOKEN", { GITLAB_TOKEN: "" })).toThrow(/GITLAB_TOKEN is not set/);
  });
});
