import { Command, CommanderError } from "commander";
import { describe, expect, it } from "vitest";
import { durationOption, parseDuration } from "./flags.js";

describe("parseDuration", () => {
  it("reads 90s, 10m, 1h30m, 250ms and plain seconds; rejects the rest", () => {
    expect(["90s", "10m", "1h30m", "250ms", "45"].map((d) => parseDuration(d))).toEqual([90_000, 600_000, 5_400_000, 250, 45_000]);
    for (const bad of ["ten minutes", "", "5x", "1.5m", "m5"]) expect(() => parseDuration(bad), bad).toThrow(/Write a duration like 90s/);
  });
});

describe("durationOption", () => {
  const parse = (...args: string[]) => {
    const command = new Command("t").exitOverride().configureOutput({ writeErr: () => {} });
    command.addOption(durationOption("--timeout <duration>", "how long", "5m"));
    return command.parse(args, { from: "user" }).opts<{ timeout: number }>().timeout;
  };

  it("gives milliseconds, from the flag or the default; a bare number is seconds", () => {
    expect(parse()).toBe(300_000);
    expect(parse("--timeout", "90s")).toBe(90_000);
    expect(parse("--timeout", "300")).toBe(300_000);
  });

  it("rejects a bad value against its flag (commander's error, so exit 2)", () => {
    expect(() => parse("--timeout", "soon")).toThrow(CommanderError);
    expect(() => parse("--timeout", "soon")).toThrow("option '--timeout <duration>' argument 'soon' is invalid");
  });

  it("shows the default as written", () => {
    const command = new Command("t").addOption(durationOption("--timeout <duration>", "how long", "10m"));
    expect(command.helpInformation()).toContain('(default: "10m")');
  });
});
