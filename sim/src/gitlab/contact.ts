import type { Emulator } from "./context.js";
import { definedFields } from "./params.js";
import type { RunnerConfigReport, SimManager, SimRunner } from "./state.js";

export interface ContactReport {
  at: Date;
  /** The runner manager's system_id (s_… or r_…); without one only the runner's contacted_at moves. */
  systemId?: string;
  version?: string;
  ipAddress?: string;
  architecture?: string;
  revision?: string;
  platform?: string;
  executor?: string;
  config?: RunnerConfigReport;
}

/** The manager fields a contact reports, as GitLab updates them on every heartbeat. */
function reported(report: ContactReport): Partial<SimManager> {
  return definedFields<Partial<SimManager>>({
    version: report.version,
    revision: report.revision,
    platform: report.platform,
    architecture: report.architecture,
    ip_address: report.ipAddress,
    executor_type: report.executor,
    config: report.config,
  });
}

/**
 * What GitLab does when a runner calls home (verify, job request): heartbeat the runner and
 * create or heartbeat the manager for its system_id. Mutates the state and persists it.
 */
export function recordContact(emu: Emulator, runner: SimRunner, report: ContactReport): void {
  const at = report.at.toISOString();
  runner.contacted_at = at;
  if (report.systemId) {
    const existing = runner.managers.find((m) => m.system_id === report.systemId);
    if (existing) {
      Object.assign(existing, reported(report), { contacted_at: at });
    } else {
      runner.managers.push({
        id: emu.state.nextId.manager++,
        system_id: report.systemId,
        version: "18.6.0",
        revision: "sim",
        platform: "linux",
        architecture: "arm64",
        ip_address: "",
        created_at: at,
        contacted_at: at,
        ...reported(report),
      });
    }
  }
  emu.save();
}
