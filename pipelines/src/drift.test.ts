import { describe, expect, it } from "vitest";
import { compareGenerated } from "./drift.js";

describe("compareGenerated", () => {
  it("is up to date only when byte-identical", () => {
    expect(compareGenerated("a\nb\n", "a\nb\n")).toEqual({ upToDate: true, removed: 0, added: 0, excerpt: [] });
    expect(compareGenerated("a\nb\n", "a\nb").upToDate).toBe(false);
  });

  it("summarises the differing region with its first line", () => {
    const drift = compareGenerated("h\nx: 1\ny: 2\nt\n", "h\nx: 3\nt\n");
    expect(drift).toEqual({
      upToDate: false,
      firstDifference: { committedLine: 2, generatedLine: 2 },
      removed: 2,
      added: 1,
      excerpt: ["-x: 1", "-y: 2", "+x: 3"],
    });
  });

  it("treats a missing committed file as all added", () => {
    const drift = compareGenerated(undefined, "a\nb\n");
    expect(drift.upToDate).toBe(false);
    expect(drift.added).toBe(3);
    expect(drift.removed).toBe(0);
  });
});
