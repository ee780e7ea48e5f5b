import { ExitCode } from "@pifleet/fleet";
import { describe, expect, it } from "vitest";
import { errorLines, mapAnsibleExit } from "./exit-code.js";

describe("mapAnsibleExit", () => {
  it.each([
    [0, ExitCode.ok],
    [2, ExitCode.failed],
    [4, ExitCode.failed],
    [6, ExitCode.failed],
    [8, ExitCode.failed],
    [250, ExitCode.failed],
    [1, ExitCode.badInput],
    [5, ExitCode.badInput],
  ])("ansible-playbook %i → pifleet %i", (ansible, pifleet) => {
    expect(mapAnsibleExit(ansible)).toBe(pifleet);
  });
});

describe("errorLines", () => {
  it("keeps Ansible's ERROR! block and drops warnings before it", () => {
    const stderr = "[WARNING]: something\nERROR! the role 'nope' was not found\n\nThe error appears to be in 'site.yml': line 3\n";
    expect(errorLines(stderr)).toEqual(["ERROR! the role 'nope' was not found", "The error appears to be in 'site.yml': line 3"]);
    expect(errorLines("[WARNING]: only a warning\n")).toEqual([]);
  });
});
