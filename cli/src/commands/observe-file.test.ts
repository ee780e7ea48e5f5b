import { InputError } from "@pifleet/fleet";
import { describe, expect, it } from "vitest";
import { ciSource, describeObservation, driftOf, parseObservation } from "./observe-file.js";

const observation = {
  version: 1,
  cluster: "home",
  observedAt: "2026-11-24T23:00:00.000Z",
  source: { pipelineIid: "7", pipelineUrl: "http://gitlab.test/p/-/pipelines/42" },
  runners: { runners: [], nodes: [{ name: "pi1", reachable: true, configText: null, blocks: [], pendingRotation: [] }] },
  swarm: { stack: "pifleet", services: [] },
  drift: null,
};

describe("observed.json", () => {
  it("reads back what observe writes, and says which pipeline observed when", () => {
    const o = parseObservation(JSON.stringify(observation), "observed.json", "home");
    expect(o.runners.nodes[0]?.name).toBe("pi1");
    expect(describeObservation(o)).toBe(
      "Fleet state as observed by [pipeline #7](http://gitlab.test/p/-/pipelines/42) at 2026-11-24T23:00:00.000Z.",
    );
  });

  it("refuses another cluster's observation, an unknown version and non-JSON (exit 2)", () => {
    const text = JSON.stringify(observation);
    expect(() => parseObservation(text, "observed.json", "lab")).toThrow(/cluster "home", and the fleet file is cluster lab/);
    expect(() => parseObservation(JSON.stringify({ ...observation, version: 2 }), "o.json", "home")).toThrow(InputError);
    expect(() => parseObservation("<html>", "o.json", "home")).toThrow(/not JSON/);
  });

  it("takes the source from GitLab's CI variables only", () => {
    expect(ciSource({ CI_PIPELINE_ID: "42", CI_JOB_URL: "http://j", HOME: "/root" })).toEqual({ pipelineId: "42", jobUrl: "http://j" });
  });

  it("records drift as task names per host, unreachable hosts included, hosts without changes left out", () => {
    const hosts = {
      pi1: { ok: 9, changed: 0, unreachable: 0, failed: 0, skipped: 0 },
      pi2: { ok: 8, changed: 2, unreachable: 0, failed: 0, skipped: 0 },
      pi3: { ok: 0, changed: 0, unreachable: 1, failed: 0, skipped: 0 },
    };
    const change = (task: string) => ({ host: "pi2", task, action: "copy", diffs: [{ before: "secret-a", after: "secret-b" }] });
    const drift = driftOf({ hosts, changes: [change("docker : daemon.json"), change("base : timezone")] });
    expect(drift).toEqual([
      { host: "pi2", tasks: ["docker : daemon.json", "base : timezone"] },
      { host: "pi3", tasks: [], unreachable: true },
    ]);
    expect(JSON.stringify(drift)).not.toContain("secret-");
  });
});
