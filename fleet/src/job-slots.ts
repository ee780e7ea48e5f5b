/** A runner pool on one node, as far as its memory goes. */
export interface PoolDemand {
  pool: string;
  jobMemoryMiB: number;
}

/** One pool's runner on a node: its gitlab-runner `limit`. */
export interface PoolSlots extends PoolDemand {
  /** Jobs of this pool the node runs at once (0: not even one fits). */
  limit: number;
  /** Which resource set the limit. */
  limitedBy: "memory" | "cpus";
}

/** Jobs of one pool in the largest mix the node's runners may take at once. */
export interface JobMix extends PoolDemand {
  jobs: number;
  mib: number;
}

export interface JobSlots {
  pools: PoolSlots[];
  /** The node's gitlab-runner `concurrent`: the most jobs it runs at once, over all its runners. */
  slots: number;
  /** The largest mix of jobs `slots` and the limits allow, largest jobs first. */
  worstCase: JobMix[];
  /** Memory of that mix: what the budget reserves for jobs. */
  worstCaseMiB: number;
}

/** The largest-memory mix of at most `slots` jobs within each pool's limit: the biggest jobs come first. */
function largestMix(pools: readonly PoolSlots[], slots: number): JobMix[] {
  const mix: JobMix[] = [];
  let open = slots;
  for (const p of [...pools].sort((a, b) => b.jobMemoryMiB - a.jobMemoryMiB)) {
    const jobs = Math.min(p.limit, open);
    if (jobs > 0) mix.push({ pool: p.pool, jobMemoryMiB: p.jobMemoryMiB, jobs, mib: jobs * p.jobMemoryMiB });
    open -= jobs;
  }
  return mix;
}

const total = (mix: readonly JobMix[]) => mix.reduce((sum, m) => sum + m.mib, 0);

/**
 * Job slots on a node from the memory left after everything else it runs (pure).
 * Each pool's runner may run as many of its jobs as fit in what is left, never more
 * than the CPU count. gitlab-runner hands a free slot to whichever runner asks, so the
 * node's `concurrent` is the most jobs whose largest possible mix still fits.
 */
export function jobSlots(leftMiB: number, cpus: number, pools: readonly PoolDemand[]): JobSlots {
  const free = Math.max(0, leftMiB);
  const limited = pools.map((p): PoolSlots => {
    const byMemory = Math.floor(free / p.jobMemoryMiB);
    return byMemory < cpus ? { ...p, limit: byMemory, limitedBy: "memory" } : { ...p, limit: cpus, limitedBy: "cpus" };
  });
  const most = Math.min(
    cpus,
    limited.reduce((sum, p) => sum + p.limit, 0),
  );
  let slots = 0;
  while (slots < most && total(largestMix(limited, slots + 1)) <= free) slots++;
  const worstCase = largestMix(limited, slots);
  return { pools: limited, slots, worstCase, worstCaseMiB: total(worstCase) };
}
