import { updateJob } from "./ci-jobs.js";
import { runnerQueue } from "./ci-queue.js";
import { assignResources, processPipeline } from "./ci-schedule.js";
import { ciState, type SimCiJob } from "./ci-state.js";
import { markIfStuck } from "./ci-stuck.js";
import type { Emulator } from "./context.js";

/**
 * Applies the scheduling core to the state: every pipeline the triggers made moves on as far as its
 * jobs allow, free resource groups go to the oldest waiting job, pending jobs nobody can take are
 * marked stuck, and runners holding a job request are woken. Pipelines made through the control API
 * (no stages recorded) are left as the test that made them set them.
 */
export function advancePipelines(emu: Emulator): void {
  const ci = ciState(emu.state);
  const byId = new Map(ci.jobs.map((j) => [j.id, j]));
  const move = (id: number, status: SimCiJob["status"]) => {
    const job = byId.get(id);
    if (job) updateJob(emu, job, { status });
  };
  const engineRun = ci.pipelines.filter((p) => p.stages !== undefined);
  for (const pipeline of engineRun) {
    const jobs = ci.jobs.filter((j) => j.pipeline_id === pipeline.id);
    if (!jobs.some((j) => j.status === "created")) continue;
    for (const change of processPipeline(jobs, pipeline.stages ?? [])) move(change.id, change.status);
  }
  for (const change of assignResources(ci.jobs)) move(change.id, change.status);
  for (const pipeline of engineRun) {
    for (const job of ci.jobs) if (job.pipeline_id === pipeline.id && job.status === "pending") markIfStuck(emu, job, pipeline);
  }
  runnerQueue(emu).bump();
}
