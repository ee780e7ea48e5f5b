import { describe, expect, it } from "vitest";
import { applyPlan } from "./apply.js";
import { planFleet } from "./reconcile.js";
import { renderPlanMarkdown, renderPlanText } from "./render-plan.js";
import { DEFERRED_RESTART_SEC, runnerRestart } from "./restart.js";
import { MemoryGitlab } from "./test-support/memory-gitlab.js";
import { MemoryNodes } from "./test-support/memory-nodes.js";
import { drain, fleet, reconcile } from "./test-support/memory-reconcile.js";

/** The fleet with another metrics port: every node's listen_address changes, which gitlab-runner reads only at start. */
const newPort = { ...fleet, runners: { ...fleet.runners, metricsPort: fleet.runners.metricsPort + 1 } };

describe("runnerRestart", () => {
  it("restarts only for a new listen_address, and on the node running this job only after the job", () => {
    expect(runnerRestart({ listen_address: "a:9252" }, { listen_address: "a:9252" }, "pi2", "pi2")).toBeUndefined();
    expect(runnerRestart({ listen_address: "a:9252" }, { listen_address: "a:9253" }, "pi1", "pi2")).toBe("now");
    expect(runnerRestart({ listen_address: "a:9252" }, { listen_address: "a:9253" }, "pi2", "pi2")).toBe("after-this-job");
    expect(runnerRestart({}, { listen_address: "a:9252" }, "pi2", undefined)).toBe("now");
  });
});

describe("runners apply from a job on one of the fleet's runners", () => {
  it("plans that node's gitlab-runner restart after the job, says so, and leaves it to the node; other nodes restart now", async () => {
    const gitlab = new MemoryGitlab();
    const nodes = new MemoryNodes();
    await reconcile(gitlab, nodes);
    nodes.log.length = 0;

    const { plan } = await planFleet(newPort, gitlab, nodes, { selfNode: "pi2" });
    const writes = plan.actions.flatMap((a) => (a.kind === "write-config" ? [[a.node, a.restart]] : []));
    expect(writes).toEqual([
      ["pi1", "now"],
      ["pi2", "after-this-job"],
      ["pi3", "now"],
    ]);
    expect(plan.notes).toContainEqual(expect.objectContaining({ subject: "pi2", message: expect.stringMatching(/^runs this job: /) }));
    const text = renderPlanText(plan);
    expect(text).toMatch(/write-config pi2 +\/etc\/gitlab-runner\/config\.toml: 1 change; restarts gitlab-runner after this job/);
    expect(text).toMatch(/write-config pi1 +\/etc\/gitlab-runner\/config\.toml: 1 change; restarts gitlab-runner \(listen_address\)/);
    expect(renderPlanMarkdown(plan)).toContain("restarts gitlab-runner after this job");

    const report = await applyPlan(plan, gitlab, nodes, { drain });
    expect(report.failures).toEqual([]);
    expect(nodes.log).toEqual([
      "write pi1",
      "restart pi1",
      "write pi2",
      `restart pi2 in ${DEFERRED_RESTART_SEC} s`,
      "write pi3",
      "restart pi3",
    ]);
  });

  it("outside a job, or for a change gitlab-runner rereads, nothing is deferred", async () => {
    const gitlab = new MemoryGitlab();
    const nodes = new MemoryNodes();
    await reconcile(gitlab, nodes);
    nodes.log.length = 0;
    const { plan } = await planFleet(newPort, gitlab, nodes);
    expect(plan.actions.map((a) => (a.kind === "write-config" ? a.restart : a.kind))).toEqual(["now", "now", "now"]);
    expect(plan.notes.filter((n) => n.message.startsWith("runs this job"))).toEqual([]);

    // A new concurrent value only: a HUP, also on the job's own node.
    const busier = { ...fleet, nodes: fleet.nodes.map((n) => (n.name === "pi2" ? { ...n, cpus: 2 } : n)) };
    await reconcile(gitlab, nodes);
    nodes.log.length = 0;
    const reread = await planFleet(busier, gitlab, nodes, { selfNode: "pi2" });
    await applyPlan(reread.plan, gitlab, nodes, { drain });
    expect(nodes.log.filter((l) => l.includes("pi2"))).toEqual(["write pi2", "reload pi2"]);
  });
});
