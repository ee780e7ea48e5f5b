import { describe, expect, it } from "vitest";
import { HELPER_DOCKERFILE, helperImageTag } from "./helper-image.js";

describe("helperImageTag", () => {
  it("names the image by arch and content: another base gives another tag", () => {
    const a = helperImageTag("amd64", "pifleet/sim-base:amd64-111111111111");
    expect(a).toMatch(/^pifleet\/sim-helper:amd64-[0-9a-f]{12}$/);
    expect(helperImageTag("amd64", "pifleet/sim-base:amd64-111111111111")).toBe(a);
    expect(helperImageTag("amd64", "pifleet/sim-base:amd64-222222222222")).not.toBe(a);
  });

  it("installs rsync (gitlab-ci-local's artifacts go missing without it) through the build proxy", () => {
    expect(HELPER_DOCKERFILE).toMatch(/apt-get install .*rsync/);
    expect(HELPER_DOCKERFILE).toContain("ARG APT_PROXY");
  });
});
