import type { NodeBudget } from "@pifleet/fleet";
import { describe, expect, it } from "vitest";
import { budgetRows } from "./validate-render.js";

const worker: NodeBudget = {
  node: "pi4",
  memoryMiB: 2048,
  fixed: [
    { item: "OS", mib: 384, why: "runners.osReserveMiB" },
    { item: "app", mib: 192, why: "stack limit" },
  ],
  fixedMiB: 576,
  leftMiB: 1472,
  pools: [
    { pool: "containers", jobMemoryMiB: 1024, limit: 1, limitedBy: "memory" },
    { pool: "deploy", jobMemoryMiB: 256, limit: 4, limitedBy: "cpus" },
  ],
  jobSlots: 2,
  jobs: [
    { pool: "containers", jobMemoryMiB: 1024, jobs: 1, mib: 1024 },
    { pool: "deploy", jobMemoryMiB: 256, jobs: 1, mib: 256 },
  ],
  jobsMiB: 1280,
  totalMiB: 1856,
  freeMiB: 192,
};

describe("the memory budget table", () => {
  it("lists a node's lines under its name, then its largest job mix with the limits, then the total", () => {
    expect(budgetRows([worker])).toEqual([
      ["pi4", "OS", "384", "runners.osReserveMiB"],
      ["", "app", "192", "stack limit"],
      ["", "jobs: 1 × containers", "1024", "2 at once (concurrent), largest jobs first; limits: containers 1, deploy 4"],
      ["", "jobs: 1 × deploy", "256", ""],
      ["", "total", "1856", "of 2048 MiB, 192 free"],
    ]);
  });

  it("says so when no pool places a runner on the node", () => {
    const services = { ...worker, node: "pi1", pools: [], jobSlots: 0, jobs: [], jobsMiB: 0, totalMiB: 576, freeMiB: 1472 };
    expect(budgetRows([services]).slice(2)).toEqual([
      ["", "jobs", "0", "no runner pool places a runner here"],
      ["", "total", "576", "of 2048 MiB, 1472 free"],
    ]);
  });
});
