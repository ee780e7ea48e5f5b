import { ciEngine } from "./ci-engine.js";
import { ciState } from "./ci-state.js";
import type { Emulator } from "./context.js";
import type { SimUser } from "./state.js";

/**
 * The user a CI_JOB_TOKEN stands for: whoever started the job's pipeline, while the job runs
 * (undefined for an unknown token or one whose job has ended, which GitLab answers with 401).
 */
export function jobTokenUser(emu: Emulator, token: string): SimUser | undefined {
  const job = ciEngine(emu).jobForToken(token);
  const pipeline = job && ciState(emu.state).pipelines.find((p) => p.id === job.pipeline_id);
  return pipeline && emu.state.users.find((u) => u.id === pipeline.user_id);
}
