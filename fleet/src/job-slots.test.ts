import { describe, expect, it } from "vitest";
import { jobSlots } from "./job-slots.js";

const containers = { pool: "containers", jobMemoryMiB: 1024 };
const deploy = { pool: "deploy", jobMemoryMiB: 512 };

describe("job slots from the memory left", () => {
  it("gives each pool what fits in what is left, at most the CPU count", () => {
    const s = jobSlots(1100, 4, [containers, deploy]);
    expect(s.pools.map((p) => [p.pool, p.limit, p.limitedBy])).toEqual([
      ["containers", 1, "memory"],
      ["deploy", 2, "memory"],
    ]);
    expect(jobSlots(8000, 4, [deploy]).pools[0]).toMatchObject({ limit: 4, limitedBy: "cpus" });
  });

  it("sizes concurrent so the largest mix the limits allow still fits: the big jobs may all come at once", () => {
    // 1024 + 512 = 1536 > 1100: one job at a time, although either pool alone could run more.
    expect(jobSlots(1100, 4, [containers, deploy])).toMatchObject({ slots: 1, worstCaseMiB: 1024 });
    // 1536 exactly: one of each (or three deploy jobs) at once.
    const s = jobSlots(1536, 4, [containers, deploy]);
    expect(s).toMatchObject({ slots: 2, worstCaseMiB: 1536 });
    expect(s.worstCase).toEqual([
      { pool: "containers", jobMemoryMiB: 1024, jobs: 1, mib: 1024 },
      { pool: "deploy", jobMemoryMiB: 512, jobs: 1, mib: 512 },
    ]);
  });

  it("never gives more slots than CPUs or than the runners' limits add up to", () => {
    expect(jobSlots(100_000, 4, [containers, deploy]).slots).toBe(4);
    expect(jobSlots(100_000, 8, [{ pool: "one", jobMemoryMiB: 512 }]).slots).toBe(8);
    expect(jobSlots(1100, 4, [containers]).slots).toBe(1);
  });

  it("gives 0 when not one job fits, and when nothing is left", () => {
    expect(jobSlots(700, 4, [containers, deploy])).toMatchObject({ slots: 1, worstCaseMiB: 512 });
    expect(jobSlots(700, 4, [containers]).pools[0]?.limit).toBe(0);
    expect(jobSlots(-200, 4, [deploy])).toMatchObject({ slots: 0, worstCase: [], worstCaseMiB: 0 });
    expect(jobSlots(2048, 4, [])).toMatchObject({ slots: 0, pools: [] });
  });
});
