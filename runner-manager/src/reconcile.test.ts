import { describe, expect, it } from "vitest";
import { applyPlan } from "./apply.js";
import { parseConfig } from "./config-toml.js";
import { planFleet } from "./reconcile.js";
import { planToJson, renderPlanMarkdown, renderPlanText } from "./render-plan.js";
import { crashAfter, InjectedCrash } from "./test-support/crash.js";
import { testFleet } from "./test-support/fleet-fixture.js";
import { MemoryGitlab } from "./test-support/memory-gitlab.js";
import { MemoryNodes } from "./test-support/memory-nodes.js";
import { DESIRED, drain, expectConverged, fleet, reconcile } from "./test-support/memory-reconcile.js";

describe("plan → apply → plan", () => {
  it("creates what is missing, then plans nothing and writes nothing", async () => {
    const gitlab = new MemoryGitlab();
    const nodes = new MemoryNodes();
    const first = await reconcile(gitlab, nodes);
    expect(first.plan.actions.filter((a) => a.kind === "create")).toHaveLength(DESIRED);
    expect(first.report.failures).toEqual([]);
    expectConverged(gitlab, nodes);

    gitlab.calls.length = 0;
    const second = await planFleet(fleet, gitlab, nodes);
    expect(second.plan.actions).toEqual([]);
    expect(renderPlanText(second.plan)).toContain("No changes");
    expect(gitlab.writes()).toEqual([]);
    // One list plus one per distinct pool tag set, no GET per runner; one verify per token on a node.
    expect(gitlab.calls.filter((c) => !c.startsWith("verify "))).toEqual(["list", "list?tags=arm64,docker", "list?tags=deploy"]);
    expect(gitlab.calls.filter((c) => c.startsWith("verify ")).sort()).toEqual(
      [...gitlab.runners.keys()].map((id) => `verify ${id}`).sort(),
    );
  });

  it("notices a revoked token written last (two resets raced) and plans its fix instead of 'No changes'; apply repairs it", async () => {
    const gitlab = new MemoryGitlab();
    const nodes = new MemoryNodes();
    await reconcile(gitlab, nodes);
    // The race: one apply's reset and write, then a second apply's reset, and the first one's token written last.
    const stale = nodes.files.get("pi2") as string;
    const ids = (parseConfig(stale, "pi2") as { runners: { id: number }[] }).runners.map((b) => b.id);
    for (const id of ids) await gitlab.resetToken(id);
    const { plan } = await planFleet(fleet, gitlab, nodes);
    expect(renderPlanText(plan)).not.toContain("No changes");
    expect(plan.actions.map((a) => `${a.kind} ${"runnerId" in a ? a.runnerId : a.node}`).sort()).toEqual(
      [...ids.map((id) => `reset-token ${id}`), "write-config pi2"].sort(),
    );
    expect(plan.actions.find((a) => a.kind === "reset-token" && a.runnerId === ids[0])).toMatchObject({
      reason: `the token in pi2's config.toml is not runner #${ids[0]}'s live one (GitLab refuses it); it is reset and rewritten`,
    });
    const applied = await applyPlan(plan, gitlab, nodes, { drain });
    expect(applied.failures).toEqual([]);
    expectConverged(gitlab, nodes);
    expect((await planFleet(fleet, gitlab, nodes)).plan.actions).toEqual([]);
  });

  it("never puts a token in the plan text, markdown or JSON, or in the apply report", async () => {
    const gitlab = new MemoryGitlab();
    const nodes = new MemoryNodes();
    await reconcile(gitlab, nodes);
    nodes.pending.set("pi2", [...gitlab.runners.keys()]); // forces token resets in the next plan
    const { plan, report } = await reconcile(gitlab, nodes);
    expect(plan.actions.some((a) => a.kind === "reset-token")).toBe(true);
    const everything = [renderPlanText(plan), renderPlanMarkdown(plan), JSON.stringify(planToJson(plan)), JSON.stringify(report)].join(
      "\n",
    );
    for (const r of gitlab.runners.values()) expect(everything).not.toContain(r.token);
    expect(everything).not.toMatch(/glrt-/);
  });
});

describe("crash at any step, then rerun", () => {
  it("converges with no duplicate and no orphan runner, whichever call the crash follows", async () => {
    const probe = crashAfter(Number.POSITIVE_INFINITY, new MemoryGitlab(), new MemoryNodes());
    await reconcile(probe.api, probe.nodes);
    const total = probe.calls().length;
    expect(total).toBeGreaterThan(10);
    for (let n = 1; n <= total; n++) {
      const gitlab = new MemoryGitlab();
      const nodes = new MemoryNodes();
      const seam = crashAfter(n, gitlab, nodes);
      await expect(reconcile(seam.api, seam.nodes), `crash after call ${n}`).rejects.toBeInstanceOf(InjectedCrash);
      await reconcile(gitlab, nodes);
      expectConverged(gitlab, nodes);
      expect((await planFleet(fleet, gitlab, nodes)).plan.actions, `plan after crash ${n} and rerun`).toEqual([]);
    }
  });

  it("converges after a crash in the middle of a rerun too (two crashes in a row)", async () => {
    const gitlab = new MemoryGitlab();
    const nodes = new MemoryNodes();
    for (const n of [3, 6]) {
      const seam = crashAfter(n, gitlab, nodes);
      await expect(reconcile(seam.api, seam.nodes)).rejects.toBeInstanceOf(InjectedCrash);
    }
    await reconcile(gitlab, nodes);
    expectConverged(gitlab, nodes);
  });
});

describe("people and other tools", () => {
  it("keeps a pause made in the UI and says so in the plan", async () => {
    const gitlab = new MemoryGitlab();
    const nodes = new MemoryNodes();
    await reconcile(gitlab, nodes);
    const target = [...gitlab.runners.values()].find((r) => r.description.startsWith("pifleet testfleet/pi2/docker ["));
    await gitlab.updateRunner(target?.id as number, { paused: true }); // as a person would, through the API
    const { plan } = await reconcile(gitlab, nodes);
    expect(plan.actions).toEqual([]);
    expect(gitlab.runners.get(target?.id as number)?.paused).toBe(true);
    expect(renderPlanText(plan)).toContain(`pi2/docker: runner #${target?.id} was paused by a person in the GitLab UI — kept paused`);
  });

  it("never changes or deletes runners it did not create, even ones dressed like its own", async () => {
    const gitlab = new MemoryGitlab();
    const nodes = new MemoryNodes();
    const foreign = gitlab.addForeign("team laptop runner");
    const impostor = gitlab.addForeign("pifleet testfleet/pi9/docker", "made by hand");
    const { plan, report } = await reconcile(gitlab, nodes);
    expect(gitlab.runners.has(foreign)).toBe(true);
    expect(gitlab.runners.has(impostor)).toBe(true);
    expect(report.failures).toEqual([]);
    expect(plan.actions.filter((a) => "runnerId" in a && (a.runnerId === foreign || a.runnerId === impostor))).toEqual([]);
    expect(plan.notes).toContainEqual({
      level: "warn",
      subject: "pifleet testfleet/pi9/docker",
      message: `runner #${impostor} is described like pifleet's but its maintenance note has no matching pifleet marker — left alone`,
    });
  });

  it("plans a look-alike of a wanted runner (its description, no marker) as a warning and creates pifleet's own beside it", async () => {
    const scratch = new MemoryGitlab();
    await reconcile(scratch, new MemoryNodes());
    const look = [...scratch.runners.values()].find((r) => r.description.startsWith("pifleet testfleet/pi2/docker ["));
    const gitlab = new MemoryGitlab();
    const nodes = new MemoryNodes();
    const impostor = gitlab.addForeign(look?.description as string, "made by hand in the UI");
    const { plan, report } = await reconcile(gitlab, nodes);
    expect(plan.actions.filter((a) => "runnerId" in a && a.runnerId === impostor)).toEqual([]);
    expect(plan.notes).toContainEqual({
      level: "warn",
      subject: look?.description,
      message: `runner #${impostor} is described like pifleet's but its maintenance note has no matching pifleet marker — left alone`,
    });
    expect(report.failures).toEqual([]);
    expect(gitlab.runners.get(impostor)?.maintenanceNote).toBe("made by hand in the UI");
    expect(nodes.files.get("pi2")).not.toContain(`id = ${impostor}\n`);
    expect(plan.actions.filter((a) => a.kind === "create")).toHaveLength(DESIRED);
  });

  it("skips only the runner deleted between plan and apply; the rest of the plan is carried out", async () => {
    const gitlab = new MemoryGitlab();
    const nodes = new MemoryNodes();
    await reconcile(gitlab, nodes);
    nodes.files.delete("pi2"); // pi2 lost its config.toml: both its tokens are reset and the file rewritten
    const { plan } = await planFleet(fleet, gitlab, nodes);
    const resets = plan.actions.filter((a) => a.kind === "reset-token");
    expect(resets.map((a) => a.key)).toEqual(["pi2/deploy", "pi2/docker"]);
    const gone = (resets[0] as { runnerId: number }).runnerId;
    await gitlab.deleteRunner(gone); // a person deletes it in the UI meanwhile
    const report = await applyPlan(plan, gitlab, nodes, { drain });
    expect(report.failures).toEqual([
      {
        subject: "pi2/deploy",
        message: `runner #${gone} no longer exists in GitLab; left out of pi2's config.toml, the next apply creates it`,
      },
    ]);
    expect(report.applied).toContain("write-config pi2");
    const pi2 = parseConfig(nodes.files.get("pi2") ?? null, "pi2") as { runners?: { id: number; token: string }[] };
    const docker = (resets[1] as { runnerId: number }).runnerId;
    expect(pi2.runners?.map((b) => b.id)).toEqual([docker]);
    expect(pi2.runners?.[0]?.token).toBe(gitlab.runners.get(docker)?.token);
    await reconcile(gitlab, nodes);
    expectConverged(gitlab, nodes);
  });

  it("sets tags back when a person removed one, and retires runners whose node left the fleet after draining them", async () => {
    const gitlab = new MemoryGitlab();
    const nodes = new MemoryNodes();
    await reconcile(gitlab, nodes);
    const pi1 = [...gitlab.runners.values()].find((r) => r.description.startsWith("pifleet testfleet/pi1/docker ["));
    await gitlab.updateRunner(pi1?.id as number, { tags: ["docker"] });
    const smaller = testFleet({
      nodes: `
  - { name: pi1, address: 198.18.0.11, roles: [swarm-manager, runner] }
  - { name: pi2, address: 198.18.0.12, roles: [runner] }`,
    });
    const pi3 = [...gitlab.runners.values()].find((r) => r.description.startsWith("pifleet testfleet/pi3/docker ["));
    const { plan } = await reconcile(gitlab, nodes, smaller);
    expect(plan.actions.map((a) => a.kind)).toEqual(["update", "pause", "drain", "delete"]);
    expect(gitlab.runners.get(pi1?.id as number)?.tags).toEqual(["arm64", "docker"]);
    expect(gitlab.runners.has(pi3?.id as number)).toBe(false);
    expect((await planFleet(smaller, gitlab, nodes)).plan.actions).toEqual([]);
  });

  it("carries a change of tags or protection in fleet.yaml to GitLab, a removed tag included, without reading each runner", async () => {
    const gitlab = new MemoryGitlab();
    const nodes = new MemoryNodes();
    await reconcile(gitlab, nodes);
    const changed = testFleet({
      pools: `
  - { name: docker, tags: [docker], jobMemoryMiB: 512, select: { roles: [runner] } }
  - { name: deploy, executor: shell, tags: [deploy, pifleet], jobMemoryMiB: 256, nodes: [pi1, pi2] }`,
    });
    gitlab.calls.length = 0;
    const { plan } = await planFleet(changed, gitlab, nodes);
    expect(gitlab.calls.filter((c) => c.startsWith("get"))).toEqual([]);
    expect(plan.actions.map((a) => `${a.kind} ${"key" in a ? a.key : a.node}`)).toEqual([
      "update pi1/deploy",
      "update pi1/docker",
      "update pi2/deploy",
      "update pi2/docker",
      "update pi3/docker",
    ]);
    expect(renderPlanText(plan)).toContain(
      "tags → deploy,pifleet, any ref, tagged jobs only (its tags or protection in fleet.yaml changed)",
    );
    await applyPlan(plan, gitlab, nodes, { drain });
    const deploy = [...gitlab.runners.values()].find((r) => r.description.startsWith("pifleet testfleet/pi1/deploy ["));
    expect(deploy).toMatchObject({
      tags: ["deploy", "pifleet"],
      accessLevel: "not_protected",
      description: "pifleet testfleet/pi1/deploy [deploy,pifleet]",
    });
    expect([...gitlab.runners.values()].filter((r) => r.description.includes("/docker")).every((r) => r.tags.join() === "docker")).toBe(
      true,
    );
    expect((await planFleet(changed, gitlab, nodes)).plan.actions).toEqual([]);
  });

  it("deletes duplicates, keeping the runner the node's config uses", async () => {
    const gitlab = new MemoryGitlab();
    const nodes = new MemoryNodes();
    await reconcile(gitlab, nodes);
    const kept = [...gitlab.runners.values()].find((r) => r.description.startsWith("pifleet testfleet/pi1/deploy ["));
    const dup = await gitlab.createRunner({
      description: kept?.description as string,
      maintenanceNote: kept?.maintenanceNote as string,
      tags: ["deploy"],
      runUntagged: false,
      accessLevel: "ref_protected",
    });
    const { plan } = await reconcile(gitlab, nodes);
    expect(plan.actions.map((a) => `${a.kind} ${"runnerId" in a ? a.runnerId : ""}`)).toEqual([
      `pause ${dup.id}`,
      `drain ${dup.id}`,
      `delete ${dup.id}`,
    ]);
    expect(gitlab.runners.has(kept?.id as number)).toBe(true);
    expectConverged(gitlab, nodes);
  });
});

describe("unreachable nodes and busy runners", () => {
  it("skips an unreachable node, reports it, and still converges the others", async () => {
    const gitlab = new MemoryGitlab();
    const nodes = new MemoryNodes();
    nodes.unreachable.add("pi2");
    const { plan, report } = await reconcile(gitlab, nodes);
    expect(plan.skippedNodes).toEqual([{ node: "pi2", error: "pi2: ssh: connect ECONNREFUSED (node unreachable)" }]);
    expect(renderPlanText(plan)).toContain(
      "! pi2: skipped: pi2: ssh: connect ECONNREFUSED (node unreachable); its runners are left as they are",
    );
    expect(report.skippedNodes.map((s) => s.node)).toEqual(["pi2"]);
    expect([...gitlab.runners.values()].map((r) => r.description.split(" [")[0]).sort()).toEqual([
      "pifleet testfleet/pi1/deploy",
      "pifleet testfleet/pi1/docker",
      "pifleet testfleet/pi3/docker",
    ]);
    nodes.unreachable.clear();
    await reconcile(gitlab, nodes);
    expectConverged(gitlab, nodes);
  });

  it("does not delete a retired runner that is still running a job when the drain times out", async () => {
    const gitlab = new MemoryGitlab();
    const nodes = new MemoryNodes();
    await reconcile(gitlab, nodes);
    const pi3 = [...gitlab.runners.values()].find((r) => r.description.startsWith("pifleet testfleet/pi3/docker ["));
    gitlab.jobs.set(pi3?.id as number, [4711]);
    const smaller = testFleet({
      pools: `\n  - { name: docker, tags: [docker, arm64], nodes: [pi1, pi2] }\n  - { name: deploy, executor: shell, tags: [deploy], nodes: [pi1, pi2] }`,
    });
    const { report } = await reconcile(gitlab, nodes, smaller);
    expect(gitlab.runners.get(pi3?.id as number)?.paused).toBe(true);
    expect(report.failures[0]?.message).toMatch(/still has 1 running job\(s\) after 1s; it stays paused/);
    gitlab.jobs.delete(pi3?.id as number);
    const plan = (await planFleet(smaller, gitlab, nodes)).plan;
    expect(plan.actions.map((a) => a.kind)).toEqual(["drain", "delete"]);
    await applyPlan(plan, gitlab, nodes, { drain });
    expect(gitlab.runners.has(pi3?.id as number)).toBe(false);
    expect(nodes.files.get("pi3")).not.toContain("pi3/docker");
  });
});
