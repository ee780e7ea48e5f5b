import { describe, expect, it } from "vitest";
import { tokensToCheck } from "./token-check.js";
import type { ObservedNode } from "./types.js";

/** Which tokens of a node's config.toml are checked with POST /runners/verify (the calls are in reconcile.test.ts). */

const CONFIG = `concurrent = 2
[[runners]]
name = "pifleet testfleet/pi1/docker"
id = 11
token = "glrt-live-or-not-00000000"
[[runners]]
name = "pifleet testfleet/pi1/deploy"
id = 12
token = "glrt-being-rotated-000000"
[[runners]]
name = "team laptop"
id = 13
token = "glrt-someone-elses-000000"
[[runners]]
name = "pifleet testfleet/pi1/old"
id = 14
token = "glrt-not-listed-000000000"
`;

const node = (extra: Partial<ObservedNode> = {}): ObservedNode => ({
  name: "pi1",
  reachable: true,
  configText: CONFIG,
  blocks: [],
  pendingRotation: [12],
  ...extra,
});

describe("tokensToCheck", () => {
  it("checks pifleet's blocks of listed runners only, not one whose rotation is pending (it is reset anyway)", () => {
    const checks = tokensToCheck({ node: node() }, new Set([11, 12, 13]));
    expect(checks.map((c) => c.runnerId)).toEqual([11]);
    expect(checks[0]?.token.reveal()).toBe("glrt-live-or-not-00000000");
    // The token is a Secret: it never prints.
    expect(JSON.stringify(checks)).not.toContain("glrt-");
  });

  it("checks nothing on a node that could not be read or has no config.toml", () => {
    expect(tokensToCheck({ node: node({ reachable: false }) }, new Set([11]))).toEqual([]);
    expect(tokensToCheck({ node: node({ configText: null }) }, new Set([11]))).toEqual([]);
  });

  it("checks nothing where gitlab-runner is stopped (drained): a verify is a contact, and would make its runners look alive", () => {
    expect(tokensToCheck({ node: node(), runnerActive: false }, new Set([11]))).toEqual([]);
    expect(tokensToCheck({ node: node(), runnerActive: true }, new Set([11])).map((c) => c.runnerId)).toEqual([11]);
  });
});
