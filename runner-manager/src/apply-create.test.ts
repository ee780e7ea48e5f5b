import { GitlabHttpError, GitlabNetworkError, manualClock } from "@pifleet/io";
import { describe, expect, it } from "vitest";
import { applyPlan } from "./apply.js";
import type { RunnerSpec } from "./gitlab-api.js";
import { planFleet } from "./reconcile.js";
import { startTestGitlab } from "./test-support/emulator.js";
import { MemoryGitlab } from "./test-support/memory-gitlab.js";
import { MemoryNodes } from "./test-support/memory-nodes.js";
import { DESIRED, drain, expectConverged, fleet, reconcile } from "./test-support/memory-reconcile.js";

/** GitLab fails the first `count` POST /user/runners: after making the runner (`made`) or before. */
class FlakyCreate extends MemoryGitlab {
  failures = 0;
  constructor(
    private readonly fault: () => Error,
    private readonly made: boolean,
    private count = 1,
  ) {
    super();
  }
  override async createRunner(spec: RunnerSpec) {
    if (this.count > 0) {
      this.count--;
      this.failures++;
      if (this.made) await super.createRunner(spec);
      throw this.fault();
    }
    return super.createRunner(spec);
  }
}

const timeout = () => new GitlabNetworkError("POST", "/user/runners", "no answer within 30 s");
const badGateway = () => new GitlabHttpError("POST", "/user/runners", 502, "502 Bad Gateway");

describe("applyPlan creates each runner once", () => {
  it("adopts the runner a timed-out create made (found by its description, token reset) instead of making a second", async () => {
    const gitlab = new FlakyCreate(timeout, true);
    const nodes = new MemoryNodes();
    const { report } = await reconcile(gitlab, nodes);
    expect(gitlab.failures).toBe(1);
    expect(report.failures).toEqual([]);
    expect(gitlab.calls.filter((c) => c.startsWith("create"))).toHaveLength(5);
    expect(gitlab.calls.filter((c) => c.startsWith("reset"))).toHaveLength(1);
    // Five runners, one per node/pool, each node holding the live token.
    expectConverged(gitlab, nodes);
  });

  it("creates again when GitLab has no runner of that description after a 5xx", async () => {
    const gitlab = new FlakyCreate(badGateway, false);
    const nodes = new MemoryNodes();
    const { report } = await reconcile(gitlab, nodes);
    expect(report.failures).toEqual([]);
    expect(gitlab.calls.filter((c) => c.startsWith("reset"))).toEqual([]);
    expectConverged(gitlab, nodes);
  });

  it("never adopts a look-alike a person made without pifleet's marker", async () => {
    const gitlab = new FlakyCreate(timeout, false);
    const nodes = new MemoryNodes();
    const { plan } = await planFleet(fleet, gitlab, nodes);
    const first = plan.actions.find((a) => a.kind === "create");
    if (first?.kind !== "create") throw new Error("the plan creates nothing");
    // Made by hand, after the plan looked, with the description pifleet gives that runner.
    const foreign = gitlab.addForeign(first.description);
    const report = await applyPlan(plan, gitlab, nodes, { drain });
    expect(report.failures).toEqual([]);
    expect(gitlab.calls).not.toContain(`reset ${foreign}`);
    // The failed create made nothing; the second made pifleet's own beside the look-alike.
    expect(gitlab.failures).toBe(1);
    const named = [...gitlab.runners.values()].filter((r) => r.description === first.description).map((r) => r.id);
    expect(named).toHaveLength(2);
    expect(named).toContain(foreign);
  });

  it("stops the run on a refusal (4xx): GitLab made nothing, nothing to look up", async () => {
    const gitlab = new FlakyCreate(() => new GitlabHttpError("POST", "/user/runners", 403, "403 Forbidden"), false);
    await expect(reconcile(gitlab, new MemoryNodes())).rejects.toThrow(/answered 403/);
    expect(gitlab.calls.filter((c) => c.startsWith("list")).length).toBe(3); // the plan's observation only
  });
});

describe("the real client against the GitLab emulator", () => {
  it("does not resend POST /user/runners after a 502; apply looks it up and converges with one runner per key", async () => {
    const gl = await startTestGitlab();
    try {
      const clock = manualClock();
      const api = gl.client({ clock });
      await gl.control("POST", "/faults", { kind: "status", status: 502, method: "POST", path_prefix: "/user/runners" });
      const nodes = new MemoryNodes();
      const { plan } = await planFleet(fleet, api, nodes);
      const report = await applyPlan(plan, api, nodes, { drain });
      expect(report.failures).toEqual([]);
      // No backoff: the transport sent the failed create once, and apply's look-up found nothing to adopt.
      expect(clock.sleeps).toEqual([]);
      const runners = (await gl.rest<{ description: string }[]>("GET", `/projects/${gl.emu.projectId}/runners?per_page=100`)).body;
      const names = runners.map((r) => r.description).filter((d) => d.startsWith("pifleet testfleet/"));
      expect(names).toHaveLength(DESIRED);
      expect(new Set(names).size).toBe(DESIRED);
    } finally {
      await gl.emu.close();
    }
  });
});
