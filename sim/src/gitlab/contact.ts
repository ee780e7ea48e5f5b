import type { Emulator } from "./context.js";
import type { SimRunner } from "./state.js";

export interface ContactReport {
  at: Date;
  /** The runner manager's system_id (s_… or r_…); without one only the runner's contacted_at moves. */
  systemId?: string;
  version?: string;
  ipAddress?: string;
  architecture?: string;
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
      existing.contacted_at = at;
      if (report.version) existing.version = report.version;
      if (report.ipAddress) existing.ip_address = report.ipAddress;
    } else {
      runner.managers.push({
        id: emu.state.nextId.manager++,
        system_id: report.systemId,
        version: report.version ?? "18.6.0",
        revision: "sim",
        platform: "linux",
        architecture: report.architecture ?? "arm64",
        ip_address: report.ipAddress ?? "",
        created_at: at,
        contacted_at: at,
      });
    }
  }
  emu.save();
}
