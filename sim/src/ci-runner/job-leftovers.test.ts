import { describe, expect, it } from "vitest";
import { gclSafeName, leftoverVolumes } from "./job-leftovers.js";

describe("gclSafeName", () => {
  it("keeps word characters and dashes, and encodes the rest as gitlab-ci-local does (base64url)", () => {
    expect(gclSafeName("slow")).toBe("slow");
    expect(gclSafeName("build-image")).toBe("build-image");
    expect(gclSafeName("build: [amd64]")).toBe(
      `build${Buffer.from(": [").toString("base64url")}amd64${Buffer.from("]").toString("base64url")}`,
    );
  });

  it("shortens a name too long for a file name with a hash of the whole name", () => {
    const long = gclSafeName("x".repeat(300));
    expect(long).toHaveLength(238);
    expect(long).toMatch(/^x+-[0-9a-f]{16}$/);
  });
});

describe("leftoverVolumes", () => {
  const listed = [
    "gcl-slow-864434-build",
    "gcl-slow-864434-tmp",
    "gcl-slow-12-build",
    "gcl-slower-5-build",
    "gcl-other-7-tmp",
    "pifleet-cache",
  ].join("\n");

  it("finds the job's new volumes only: not another job's, not one whose name merely starts alike, not one there before", () => {
    expect(leftoverVolumes(listed, "slow", new Set(["gcl-slow-12-build"]))).toEqual(["gcl-slow-864434-build", "gcl-slow-864434-tmp"]);
  });

  it("finds nothing when nothing new is there", () => {
    expect(leftoverVolumes("", "slow", new Set())).toEqual([]);
    expect(leftoverVolumes("gcl-slow-1-build\n", "slow", new Set(["gcl-slow-1-build"]))).toEqual([]);
  });
});
