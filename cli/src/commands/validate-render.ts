import type { NodeBudget } from "@pifleet/fleet";

/** The job lines of a node's budget: the largest mix its runners may take at once, or why there is none. */
function jobRows(b: NodeBudget): string[][] {
  if (b.pools.length === 0) return [["jobs", "0", "no runner pool places a runner here"]];
  const limits = b.pools.map((p) => `${p.pool} ${p.limit}`).join(", ");
  const why = `${b.jobSlots} at once (concurrent), largest jobs first; limits: ${limits}`;
  return b.jobs.map((j, i) => [`jobs: ${j.jobs} × ${j.pool}`, String(j.mib), i === 0 ? why : ""]);
}

/**
 * The memory budget as table rows (pure): per node, what runs there with its MiB and
 * where the figure comes from, the jobs, and the total against the node's memory.
 */
export function budgetRows(budgets: readonly NodeBudget[]): string[][] {
  return budgets.flatMap((b) => {
    const rows = [
      ...b.fixed.map((l) => [l.item, String(l.mib), l.why]),
      ...jobRows(b),
      ["total", String(b.totalMiB), `of ${b.memoryMiB} MiB, ${b.freeMiB} free`],
    ];
    return rows.map((r, i) => [i === 0 ? b.node : "", ...r]);
  });
}
