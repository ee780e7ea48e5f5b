import { type Clock, systemClock } from "@pifleet/io";
import type { GitlabApi, RunnerDetail } from "./gitlab-api.js";
import { type NoteState, parseNote } from "./identity.js";

/**
 * The last check before pifleet changes or deletes a runner: its
 * maintenance_note must carry pifleet's marker for this cluster. One GET per
 * change, never per runner, so a no-op stays cheap.
 */
export type Ownership = { owned: true; runner: RunnerDetail; note: NoteState } | { owned: false; reason: string; runner?: RunnerDetail };

export async function checkOwnership(api: GitlabApi, id: number, cluster: string): Promise<Ownership> {
  const runner = await api.getRunner(id);
  if (!runner) return { owned: false, reason: `runner #${id} no longer exists in GitLab` };
  const note = parseNote(runner.maintenanceNote);
  if (!note)
    return { owned: false, runner, reason: `runner #${id} has no pifleet marker in its maintenance note — not pifleet's, left alone` };
  if (note.identity.cluster !== cluster)
    return { owned: false, runner, reason: `runner #${id} belongs to cluster ${note.identity.cluster}, not ${cluster} — left alone` };
  return { owned: true, runner, note };
}

export interface Waiting {
  timeoutMs: number;
  pollMs: number;
  /** The system clock unless a test passes a manual one. */
  clock?: Clock;
  onWait?: (running: number, waitedMs: number) => void;
}

/** Polls the runner's running jobs until there are none or the timeout passes; returns how many still run. */
export async function waitForNoRunningJobs(api: GitlabApi, id: number, w: Waiting): Promise<number> {
  const clock = w.clock ?? systemClock;
  const started = clock.now();
  for (;;) {
    const running = (await api.runningJobs(id)).length;
    if (running === 0) return 0;
    const waited = clock.now() - started;
    if (waited >= w.timeoutMs) return running;
    w.onWait?.(running, waited);
    await clock.sleep(Math.min(w.pollMs, Math.max(1, w.timeoutMs - waited)));
  }
}
