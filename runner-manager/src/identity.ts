/**
 * How pifleet recognises its runners. The description ("pifleet CLUSTER/NODE/POOL
 * [TAGS; protected; untagged]") is the identity, because GitLab's runner list
 * returns it, so finding our runners costs one request per page. Its bracket
 * repeats the settings fleet.yaml gives the runner, so a change in fleet.yaml
 * shows up as a different description without reading each runner. The maintenance_note carries the
 * ownership marker a person sees in the UI, plus pifleet's own pause record.
 */

export interface RunnerIdentity {
  cluster: string;
  node: string;
  pool: string;
}

export const MARKER = "managed-by=pifleet";
const PAUSED_BY_PIFLEET = "paused-by=pifleet";
const DESCRIPTION = /^pifleet ([a-z0-9-]+)\/([a-z0-9-]+)\/([a-z0-9-]+)(?: \[[^\]]*\])?$/;

export function runnerKey(id: { node: string; pool: string }): string {
  return `${id.node}/${id.pool}`;
}

/** What fleet.yaml sets on the runner in GitLab, echoed in its description. */
export interface RunnerSettingsSummary {
  tags: string[];
  protected: boolean;
  runUntagged: boolean;
}

/** "pifleet CLUSTER/NODE/POOL": the stable name (also the config.toml block name). */
export function runnerName(id: RunnerIdentity): string {
  return `pifleet ${id.cluster}/${id.node}/${id.pool}`;
}

export function describeRunner(id: RunnerIdentity, settings: RunnerSettingsSummary): string {
  const parts = [
    settings.tags.join(",") || "no tags",
    ...(settings.protected ? ["protected"] : []),
    ...(settings.runUntagged ? ["untagged"] : []),
  ];
  return `${runnerName(id)} [${parts.join("; ")}]`;
}

export function parseDescription(description: string | null | undefined): RunnerIdentity | undefined {
  const m = DESCRIPTION.exec(description ?? "");
  if (!m) return undefined;
  return { cluster: m[1] as string, node: m[2] as string, pool: m[3] as string };
}

export interface NoteState {
  identity: RunnerIdentity;
  /** pifleet paused it (drain); a pause without this was made by a person. */
  pausedByPifleet: boolean;
}

export function renderNote(state: NoteState): string {
  const { cluster, node, pool } = state.identity;
  const lines = [
    `${MARKER} cluster=${cluster} node=${node} pool=${pool}`,
    ...(state.pausedByPifleet ? [`${PAUSED_BY_PIFLEET} (pifleet runners undrain ${node})`] : []),
    "Tags and description come from fleet.yaml; a pause made here is kept.",
  ];
  return lines.join("\n");
}

/** Reads a maintenance_note; undefined when the runner is not pifleet's. */
export function parseNote(note: string | null | undefined): NoteState | undefined {
  const first = (note ?? "").split("\n")[0] ?? "";
  const m = /^managed-by=pifleet cluster=([a-z0-9-]+) node=([a-z0-9-]+) pool=([a-z0-9-]+)$/.exec(first.trim());
  if (!m) return undefined;
  return {
    identity: { cluster: m[1] as string, node: m[2] as string, pool: m[3] as string },
    pausedByPifleet: (note ?? "").split("\n").some((l) => l.startsWith(PAUSED_BY_PIFLEET)),
  };
}

export function sameIdentity(a: RunnerIdentity, b: RunnerIdentity): boolean {
  return a.cluster === b.cluster && a.node === b.node && a.pool === b.pool;
}
