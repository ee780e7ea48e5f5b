import { describe, expect, it } from "vitest";
import { MASK, maskText, secretValues } from "./mask.js";

describe("secretValues", () => {
  it("collects strings under secret-looking names at any depth, longest first", () => {
    expect(
      secretValues({
        runner_token: "glrt-abcdef123",
        registry: { password: "hunter22", user: "admin" },
        nested: { api_key: ["k-1111", "k-22222"] },
        timezone: "Europe/Berlin",
        pin: { token: "123" },
      }),
    ).toEqual(["glrt-abcdef123", "hunter22", "k-22222", "k-1111"]);
  });
});

describe("maskText", () => {
  it("replaces every known secret value wherever it appears", () => {
    expect(maskText("url=https://x/?t=glrt-abc glrt-abc", ["glrt-abc"])).toBe(`url=https://x/?t=${MASK} ${MASK}`);
  });

  it("masks values assigned to secret-looking keys in config text, quoted or not", () => {
    const toml = 'concurrent = 2\n  token = "glrt-zzz"\npassword: p4ss\n{"api_key": "abc123", "name": "x"}\n';
    expect(maskText(toml)).toBe(`concurrent = 2\n  token = "${MASK}"\npassword: ${MASK}\n{"api_key": "${MASK}", "name": "x"}\n`);
  });

  it("leaves ordinary text alone", () => {
    const text = "PasswordAuthentication no\nmax-size: 10m\n";
    expect(maskText(text)).toBe(text);
  });
});
