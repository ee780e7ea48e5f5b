import type { NodeBudget } from "./budget.js";
import type { FleetProblem } from "./checks.js";
import type { Fleet } from "./schema.js";

/** "OS 384 + GPU 16 + … = 1200 MiB": what a node runs before any job. */
function fixedSum(b: NodeBudget): string {
  return `${b.fixed.map((l) => `${l.item} ${l.mib}`).join(" + ")} = ${b.fixedMiB} MiB`;
}

/** A node whose OS, daemons and services alone exceed its memory. */
function overCommittedNode(b: NodeBudget, index: number): FleetProblem {
  return {
    path: ["nodes", index, "memoryMiB"],
    message:
      `node "${b.node}" is over-committed before any job: ${fixedSum(b)} of its ${b.memoryMiB} MiB (${-b.leftMiB} MiB over); ` +
      "move the registry or the load balancer to another node (app.registry.node, app.loadBalancer.node), " +
      "take a role off it (redis, app, runner, ...), or lower runners.osReserveMiB",
  };
}

/** A pool whose job does not fit in what is left on some of its nodes: their runner could not take a job. */
function poolTooBig(name: string, jobMemoryMiB: number, index: number, short: readonly NodeBudget[]): FleetProblem {
  const where = short
    .map((b) => `${b.node} (${b.memoryMiB} MiB, ${fixedSum(b)}: ${b.leftMiB} MiB left, ${jobMemoryMiB - b.leftMiB} MiB short)`)
    .join("; ");
  const nodes = short.map((b) => b.node).join(", ");
  return {
    path: ["pools", index, "jobMemoryMiB"],
    message:
      `runner pool "${name}" gives each job ${jobMemoryMiB} MiB, more than is left on ${where}: its runner there could not ` +
      `take one job; take ${nodes} out of the pool (nodes or select), lower jobMemoryMiB, or move services off ` +
      (short.length === 1 ? "that node" : "those nodes"),
  };
}

/**
 * Over-commitment the memory budget finds, located at the node or pool to change (pure):
 * a node whose OS, daemons and services alone exceed its memory, and a pool with a node where
 * not one of its jobs fits in what is left (a runner `limit` of 0, which gitlab-runner reads as unlimited).
 */
export function budgetProblems(fleet: Fleet, budgets: readonly NodeBudget[]): FleetProblem[] {
  const problems: FleetProblem[] = [];
  for (const b of budgets) {
    if (b.leftMiB < 0)
      problems.push(
        overCommittedNode(
          b,
          fleet.nodes.findIndex((n) => n.name === b.node),
        ),
      );
  }
  fleet.pools.forEach((pool, i) => {
    const short = budgets.filter((b) => b.leftMiB >= 0 && b.pools.some((p) => p.pool === pool.name && p.limit === 0));
    if (short.length > 0) problems.push(poolTooBig(pool.name, pool.jobMemoryMiB, i, short));
  });
  return problems;
}
