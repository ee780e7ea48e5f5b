/** Shared shapes of runner-manager: what the fleet wants, what is there, and the plan between. */

export type AccessLevel = "not_protected" | "ref_protected";
/** GitLab's REST `status`: "paused" (deprecated, still sent) hides whether a paused runner is online. */
export type RunnerStatus = "online" | "offline" | "stale" | "never_contacted" | "paused";

/** Where runners live in GitLab, in its API's words; groups and projects always with their id. */
export type RunnerScope = { type: "instance_type" } | { type: "group_type" | "project_type"; id: number };

/** The settings of one [[runners]] block pifleet manages (no id, no token). */
export interface RunnerBlockSettings {
  name: string;
  url: string;
  executor: "docker" | "shell";
  limit: number;
  requestConcurrency: number;
  shell?: string;
  docker?: { image: string; memory: string; memorySwap: string; volumes: string[] };
}

/** Global config.toml keys pifleet manages on a node. */
export interface NodeSettings {
  concurrent: number;
  checkInterval: number;
  listenAddress: string;
  shutdownTimeout: number;
}

/** What GitLab gets when pifleet creates the runner for one node and pool. */
export interface RunnerCreateSpec {
  key: string;
  node: string;
  pool: string;
  description: string;
  tags: string[];
  runUntagged: boolean;
  accessLevel: AccessLevel;
  maintenanceNote: string;
}

export interface DesiredRunner extends RunnerCreateSpec {
  block: RunnerBlockSettings;
}

export interface DesiredNode {
  name: string;
  settings: NodeSettings;
  runners: DesiredRunner[];
}

export interface Desired {
  cluster: string;
  nodes: DesiredNode[];
}

/** A runner as GitLab's list endpoint shows it (plus what observe learned cheaply). */
export interface ObservedRunner {
  id: number;
  description: string;
  paused: boolean;
  status: RunnerStatus;
  /** Pools whose full tag set this runner carries (from list queries filtered by tag_list). */
  tagPools: string[];
  /** Known only for runners observe read in detail (paused, duplicate or to be retired). */
  pausedByPifleet?: boolean;
  /** Set when the description looks like pifleet's but the maintenance_note does not: never touched. */
  notOurs?: string;
}

/** One [[runners]] block found in a node's config.toml. */
export interface ObservedBlock {
  id: number;
  name: string;
}

export interface ObservedNode {
  name: string;
  reachable: boolean;
  /** Why the node could not be read (never contains secrets). */
  error?: string;
  /** config.toml text; null when the file does not exist yet. */
  configText: string | null;
  blocks: ObservedBlock[];
  /** Runner ids whose token reset started but whose config write did not finish. */
  pendingRotation: number[];
  /**
   * Runner ids whose token in config.toml GitLab refused (POST /runners/verify: 403): not their live token, so the
   * runner cannot work; the plan resets and rewrites it. Absent in observations made before verify was checked.
   */
  rejectedTokens?: number[];
}

export interface Observed {
  runners: ObservedRunner[];
  nodes: ObservedNode[];
}

export type Action =
  /** Recorded on the node before its tokens are reset, so a crash between the reset and the write is finished by the next apply. */
  | { kind: "mark-pending-rotation"; node: string; runnerIds: number[] }
  | ({ kind: "create" } & RunnerCreateSpec)
  | { kind: "update"; key: string; runnerId: number; set: RunnerUpdate; reason: string }
  | { kind: "reset-token"; key: string; node: string; runnerId: number; reason: string }
  | {
      kind: "write-config";
      node: string;
      settings: NodeSettings;
      blocks: PlannedBlock[];
      changes: string[];
      /**
       * gitlab-runner reads listen_address only at start, so a change to it restarts the runner: `now`, or, on the node
       * whose runner runs this very job, `after-this-job` (restart.ts). Absent: a reload (HUP) is enough.
       */
      restart?: RunnerRestart;
    }
  | { kind: "pause"; key: string; runnerId: number; reason: string }
  | { kind: "drain"; key: string; runnerId: number }
  | { kind: "delete"; key: string; runnerId: number; reason: string };

/** When a config write restarts gitlab-runner; see the write-config action. */
export type RunnerRestart = "now" | "after-this-job";

/** Server-side settings an update sets. */
export interface RunnerUpdate {
  tags?: string[];
  description?: string;
  runUntagged?: boolean;
  accessLevel?: AccessLevel;
}

/** A [[runners]] block a config write puts on a node; runnerId null = the runner this apply creates. */
export interface PlannedBlock {
  key: string;
  runnerId: number | null;
  settings: RunnerBlockSettings;
}

export interface Note {
  level: "info" | "warn";
  subject: string;
  message: string;
}

/** What a plan is for: the full reconcile (neither set), or only one operation. */
export interface PlanOptions {
  /** Only removals: runners fleet.yaml no longer wants, and with `stale` those GitLab has not heard from for 7 days. */
  prune?: { stale: boolean };
  /** Only token rotations, of these nodes' runners (every runner node when absent). */
  rotate?: { nodes?: string[] };
  /** The node whose runner runs the job making this plan (nodeRunningThisJob): its gitlab-runner restart waits for the job. */
  selfNode?: string;
}

export interface Plan {
  cluster: string;
  actions: Action[];
  notes: Note[];
  /** Nodes that could not be read (or, for a rotation, not rotated); their changes are left for a later run. */
  skippedNodes: { node: string; error: string }[];
}
