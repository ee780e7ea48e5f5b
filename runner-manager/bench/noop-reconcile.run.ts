/**
 * Benchmark: API requests and wall time of a no-op reconcile (plan after a converged apply)
 * against the sim's GitLab API emulator, counted by its request log. Nodes are in memory so the
 * figures are GitLab's share only. Run: npm run bench -w runner-manager. Prints; asserts nothing.
 */
import { parseFleet } from "@pifleet/fleet";
import { it } from "vitest";
import { applyPlan } from "../src/apply.js";
import { planFleet } from "../src/reconcile.js";
import { startTestGitlab } from "../src/test-support/emulator.js";
import { MemoryNodes } from "../src/test-support/memory-nodes.js";

const SHAPES = [
  { nodes: 4, pools: 1 },
  { nodes: 100, pools: 1 },
  { nodes: 25, pools: 4 },
  { nodes: 250, pools: 1 },
];
const RUNS = 5;

function fleetOf(nodes: number, pools: number, gitlabUrl: string, projectId: number) {
  const nodeLines = Array.from({ length: nodes }, (_, i) => {
    const roles = i === 0 ? "[swarm-manager, runner]" : "[runner]";
    return `  - { name: pi${i + 1}, address: 198.18.${Math.floor(i / 200) + 10}.${(i % 200) + 11}, roles: ${roles} }`;
  });
  const poolLines = Array.from(
    { length: pools },
    (_, p) => `  - { name: pool${p + 1}, tags: [pool${p + 1}, pi], select: { roles: [runner] } }`,
  );
  return parseFleet(
    `cluster: bench
gitlab: { url: "${gitlabUrl}", runnerScope: { type: project, id: ${projectId} } }
ssh: { privateKey: /dev/null, knownHosts: /dev/null }
nodes:
${nodeLines.join("\n")}
pools:
${poolLines.join("\n")}
`,
    "bench-fleet.yaml",
  );
}

it("no-op reconcile: requests and wall time", { timeout: 600_000 }, async () => {
  const rows: string[] = [];
  for (const shape of SHAPES) {
    const gl = await startTestGitlab();
    try {
      const fleet = fleetOf(shape.nodes, shape.pools, gl.emu.url, gl.emu.projectId);
      const nodes = new MemoryNodes();
      const first = await planFleet(fleet, gl.api, nodes);
      await applyPlan(first.plan, gl.api, nodes, { drain: { timeoutMs: 1000, pollMs: 100 } });
      const times: number[] = [];
      let requests = { total: 0, byEndpoint: {} as Record<string, number> };
      let actions = -1;
      for (let i = 0; i < RUNS; i++) {
        await gl.control("DELETE", "/requests");
        const t0 = performance.now();
        const { plan } = await planFleet(fleet, gl.api, nodes);
        times.push(performance.now() - t0);
        actions = plan.actions.length;
        requests = await gl.requests();
      }
      times.sort((a, b) => a - b);
      // POST /runners/verify reads (is the node's token live?); it changes no runner.
      const writes = Object.entries(requests.byEndpoint).filter(([k]) => !k.startsWith("GET ") && k !== "POST /runners/verify").length;
      rows.push(
        [
          String(shape.nodes * shape.pools).padStart(7),
          String(shape.nodes).padStart(5),
          String(shape.pools).padStart(5),
          String(requests.total).padStart(8),
          String(writes).padStart(6),
          String(actions).padStart(7),
          `${(times[Math.floor(RUNS / 2)] ?? 0).toFixed(1)} ms`.padStart(12),
          `  ${Object.entries(requests.byEndpoint)
            .map(([k, v]) => `${v}× ${k}`)
            .join(", ")}`,
        ].join(" "),
      );
    } finally {
      await gl.emu.close();
    }
  }
  console.log(
    [
      "",
      `No-op reconcile (observe + plan, after a converged apply), median of ${RUNS}; nodes in memory, GitLab = sim emulator on loopback`,
      "runners nodes pools requests writes actions  wall (p50)  requests by endpoint",
      ...rows,
      "",
    ].join("\n"),
  );
});
