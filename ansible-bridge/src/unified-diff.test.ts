import { describe, expect, it } from "vitest";
import { unifiedDiff } from "./unified-diff.js";

describe("unifiedDiff", () => {
  it("is empty for equal texts", () => {
    expect(unifiedDiff("a\nb\n", "a\nb\n")).toBe("");
  });

  it("shows a changed line with three lines of context", () => {
    const before = "1\n2\n3\n4\n5\n6\n7\n8\n9\n";
    const after = "1\n2\n3\n4\nfive\n6\n7\n8\n9\n";
    expect(unifiedDiff(before, after)).toBe("@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n");
  });

  it("makes separate hunks for distant changes and handles a new file", () => {
    const before = Array.from({ length: 20 }, (_, i) => `l${i}`).join("\n");
    const after = before.replace("l1\n", "L1\n").replace("l18", "L18");
    expect(unifiedDiff(before, after).match(/^@@/gm)).toHaveLength(2);
    expect(unifiedDiff("", "x\ny\n")).toBe("@@ -0,0 +1,2 @@\n+x\n+y\n");
  });
});
