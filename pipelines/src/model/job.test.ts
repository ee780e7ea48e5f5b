import { describe, expect, it } from "vitest";
import { forEachItem, instantiate, job, neededJob, template } from "./job.js";
import type { NeedSpec } from "./types.js";

describe("composition: one definition, many instances", () => {
  const build = job("build", { stage: "build", script: ["make"] });
  const deploy = job("deploy", { stage: "deploy", needs: [build], script: ["./deploy"] });
  const verify = job("verify", { stage: "verify", needs: [{ job: deploy, artifacts: false }], script: ["./verify"] });
  const stop = job("stop", { stage: "deploy", script: ["x"], environment: { name: "e", action: "stop" } });
  const start = job("start", { stage: "deploy", script: ["x"], environment: { name: "e", onStop: stop }, dependencies: [deploy] });

  it("names instances with the prefix and suffix", () => {
    expect(instantiate([deploy, verify], { prefix: "pi1:", suffix: "-canary" }).map((j) => j.name)).toEqual([
      "pi1:deploy-canary",
      "pi1:verify-canary",
    ]);
  });

  it("needs inside the group follow to the same instance; needs outside the group stay", () => {
    const [d1, v1] = instantiate([deploy, verify], { suffix: ":pi1" });
    expect(d1?.needs).toEqual([build]);
    const need = v1?.needs?.[0] as NeedSpec;
    expect(need.job).toBe(d1);
    expect(need.artifacts).toBe(false);
  });

  it("dependencies and environment:on_stop follow too", () => {
    const [d, s, st] = instantiate([deploy, stop, start], { suffix: ":b" });
    expect(st?.dependencies?.[0]).toBe(d);
    expect(st?.environment?.onStop).toBe(s);
  });

  it("rules:needs and trigger artifact jobs follow too", () => {
    const gen = job("gen", { script: ["x"], artifacts: { paths: ["c.yml"] } });
    const child = job("child", { trigger: { include: [{ artifact: "c.yml", job: gen }] }, rules: [{ if: "$X", needs: [gen] }] });
    const [g, c] = instantiate([gen, child], { prefix: "a:" });
    expect(c?.trigger?.include?.[0]).toEqual({ artifact: "c.yml", job: g });
    expect(neededJob(c?.rules?.[0]?.needs?.[0] ?? gen)).toBe(g);
  });

  it("instance variables are added to (and override) each job's own", () => {
    const j = job("j", { script: ["x"], variables: { A: "1", B: "1" } });
    expect(instantiate([j], { suffix: "-x", variables: { B: "2", C: "3" } })[0]?.variables).toEqual({ A: "1", B: "2", C: "3" });
  });

  it("forEachItem instantiates per item, in item order, leaving the definition untouched", () => {
    const jobs = forEachItem(["pi1", "pi2"], [deploy, verify], (n) => ({ suffix: `:${n}` }));
    expect(jobs.map((j) => j.name)).toEqual(["deploy:pi1", "verify:pi1", "deploy:pi2", "verify:pi2"]);
    expect(neededJob(jobs[3]?.needs?.[0] ?? deploy)).toBe(jobs[2]);
    expect(deploy.name).toBe("deploy");
    expect(neededJob(verify.needs?.[0] ?? build)).toBe(deploy);
  });

  it("template() makes hidden job names", () => {
    expect(template("node", {}).name).toBe(".node");
    expect(template(".node", {}).name).toBe(".node");
  });
});
