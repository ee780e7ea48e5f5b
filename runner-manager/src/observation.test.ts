import { describe, expect, it } from "vitest";
import { desiredFromFleet } from "./desired.js";
import { fingerprint } from "./fingerprint.js";
import { planningObservation, REDACTED, redactObserved } from "./observation.js";
import { observe } from "./observe.js";
import { planRunners } from "./planner.js";
import { testFleet } from "./test-support/fleet-fixture.js";
import { MemoryGitlab } from "./test-support/memory-gitlab.js";
import { MemoryNodes } from "./test-support/memory-nodes.js";
import { reconcile } from "./test-support/memory-reconcile.js";

/** The MR plan's observation (docs/security.md, design D): no token in it, and the same plan as the real one. */

/** A converged fleet whose config.toml files hold live tokens, plus a foreign block with its own token. */
async function convergedWithTokens() {
  const gitlab = new MemoryGitlab();
  const nodes = new MemoryNodes();
  await reconcile(gitlab, nodes);
  const foreign = [
    "",
    "[[runners]]",
    'name = "team laptop"',
    'url = "http://x"',
    'token = "glrt-foreign-secret"',
    'executor = "shell"',
    'environment = ["AWS_SECRET=env-secret-1", "DEPLOY_TARGET=env-secret-2"]',
    "[runners.cache]",
    'Type = "s3"',
    "[runners.cache.s3]",
    'AccessKey = "AKIA-cache-access"',
    'SecretKey = "cache-secret-key"',
    "[runners.docker]",
    'image = "alpine"',
    "[runners.docker.auth]",
    'password = "registry-password"',
    "",
  ].join("\n");
  nodes.files.set("pi3", `${nodes.files.get("pi3") ?? ""}${foreign}`);
  const tokens = [
    ...[...gitlab.runners.values()].map((r) => r.token),
    "glrt-foreign-secret",
    "env-secret-1",
    "env-secret-2",
    "AKIA-cache-access",
    "cache-secret-key",
    "registry-password",
  ];
  return { gitlab, nodes, tokens };
}

// Fleet changes that make the planner write config.toml, adopt, retag or retire runners.
const changedFleets = {
  unchanged: testFleet(),
  "a pool leaves pi2": testFleet({
    pools: `
  - { name: docker, tags: [docker, arm64], jobMemoryMiB: 512, select: { roles: [runner] } }
  - { name: deploy, executor: shell, tags: [deploy], jobMemoryMiB: 256, protected: true, nodes: [pi1] }`,
  }),
  "new tags and job memory": testFleet({
    pools: `
  - { name: docker, tags: [docker, arm64, pi], jobMemoryMiB: 384, select: { roles: [runner] } }
  - { name: deploy, executor: shell, tags: [deploy], jobMemoryMiB: 256, protected: true, nodes: [pi1, pi2] }`,
  }),
};

describe("redactObserved", () => {
  it("leaves no token of any runner, pifleet's or foreign, and no cache, registry or environment credential in the observation", async () => {
    const { gitlab, nodes, tokens } = await convergedWithTokens();
    const observed = await observe(desiredFromFleet(testFleet()), gitlab, nodes);
    const raw = JSON.stringify(observed);
    for (const t of tokens) expect(raw).toContain(t); // the test reads real tokens
    const redacted = JSON.stringify(redactObserved(observed));
    for (const t of tokens) expect(redacted).not.toContain(t);
    expect(redacted).not.toMatch(/glrt-/);
    expect(redacted).toContain(REDACTED);
    // What a reader of the plan needs stays: names, the cache type, the image.
    for (const kept of ["AWS_SECRET=", "DEPLOY_TARGET=", '\\"s3\\"', "alpine", "team laptop"]) expect(redacted).toContain(kept);
  });

  for (const [change, fleet] of Object.entries(changedFleets)) {
    it(`plans the same as the real observation: ${change}`, async () => {
      const { gitlab, nodes } = await convergedWithTokens();
      nodes.pending.set("pi1", [[...gitlab.runners.keys()][0] as number]); // an unfinished rotation: a token reset
      const desired = desiredFromFleet(fleet);
      const observed = await observe(desired, gitlab, nodes);
      const redacted = redactObserved(observed);
      const plan = planRunners(desired, observed);
      if (change !== "unchanged") expect(plan.actions.some((a) => a.kind === "write-config")).toBe(true);
      expect(planRunners(desired, redacted)).toEqual(plan);
      // A plan saved from the observation is checked against a live one: their fingerprints agree.
      expect(fingerprint(desired, redacted)).toEqual(fingerprint(desired, observed));
    });
  }
});

describe("planningObservation", () => {
  it("plans a node the fleet file adds as a fresh one, with a note, and leaves observed nodes as they were", async () => {
    const { gitlab, nodes } = await convergedWithTokens();
    const observed = redactObserved(await observe(desiredFromFleet(testFleet()), gitlab, nodes));
    const grown = testFleet({
      nodes: `
  - { name: pi1, address: 198.18.0.11, memoryMiB: 2048, cpus: 4, roles: [swarm-manager, runner] }
  - { name: pi2, address: 198.18.0.12, memoryMiB: 2048, cpus: 4, roles: [runner] }
  - { name: pi3, address: 198.18.0.13, memoryMiB: 4096, cpus: 4, roles: [runner] }
  - { name: pi4, address: 198.18.0.14, memoryMiB: 4096, cpus: 4, roles: [runner] }`,
    });
    const desired = desiredFromFleet(grown);
    const { observed: forPlan, notes } = planningObservation(desired, observed);
    expect(notes.map((n) => n.subject)).toEqual(["pi4"]);
    const plan = planRunners(desired, forPlan);
    expect(plan.skippedNodes).toEqual([]);
    expect(plan.actions.map((a) => `${a.kind} ${"key" in a ? a.key : a.node}`)).toEqual(["create pi4/docker", "write-config pi4"]);
  });
});
