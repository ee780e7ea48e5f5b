import { describe, expect, it } from "vitest";
import { projectSettingFindings, renderSettingFindings } from "./settings.js";

const maintainers = [{ access_level: 40 }];
const branch = (push: number, merge: number) => ({
  name: "main",
  push_access_levels: [{ access_level: push }],
  merge_access_levels: [{ access_level: merge }],
});

describe("projectSettingFindings", () => {
  it("holds with the default branch and every tag for Maintainers only (No one counts as stricter)", () => {
    const findings = projectSettingFindings("main", branch(0, 40), [{ name: "*", create_access_levels: maintainers }]);
    expect(findings.slice(0, 2).map((f) => f.ok)).toEqual([true, true]);
  });

  it("says what a Developer could do when a setting does not hold", () => {
    const findings = projectSettingFindings("main", branch(30, 40), [{ name: "v*", create_access_levels: maintainers }]);
    expect(findings.slice(0, 2).map((f) => f.ok)).toEqual([false, false]);
    expect(projectSettingFindings("main", "unprotected", [])[0]?.detail).toMatch(/not protected: every Developer's push/);
    expect(renderSettingFindings(findings)).toMatch(/✗ default branch main protected.*Developers may push or merge/);
  });

  it("marks what the API did not answer as to check in the UI, not as held", () => {
    const findings = projectSettingFindings("main", null, null);
    expect(findings.map((f) => f.ok)).toEqual([null, null, null]);
    expect(renderSettingFindings(findings)).toContain("? default branch main protected");
  });
});
