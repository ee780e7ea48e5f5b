export { type AnsibleCfgInput, renderAnsibleCfg } from "./ansible-cfg.js";
export { type ConfigureOptions, checkConfigureInput, configure, ROLE_TAGS } from "./configure.js";
export { type AnsibleEvent, type Diff, type HostRecap, normaliseStats, parseLine, type TaskStatus } from "./events.js";
export { errorLines, mapAnsibleExit } from "./exit-code.js";
export { type AnsibleInventory, buildInventory, REGISTRY_GROUP } from "./inventory.js";
export { isSecretName, maskEvent, secretValues } from "./mask.js";
export { type HostProgress, ProgressTracker } from "./progress.js";
export { type IgnoredFailure, type RunSummary, summarise, type TaskChange, type TaskFailure } from "./recap.js";
export { type ReportOptions, renderMarkdownReport } from "./report.js";
export { actOnNode, ROLLING_PLAYBOOK } from "./rolling-act.js";
export { observeNodes, observeScript, parseObservation } from "./rolling-observe.js";
export {
  type Holding,
  type NodeAction,
  type NodeObservation,
  type NodeRoll,
  planRoll,
  ROLL_MARKERS,
  type RollInput,
  type RollPlan,
  type RollStep,
} from "./rolling-plan.js";
export { renderRollPlanText, renderRollReportText } from "./rolling-render.js";
export { maxDrainedAtOnce, type RollActions, type RollEvent, type RollReport, runRoll } from "./rolling-run.js";
export { managerFor, type SwarmRoll, type SwarmWaits, swarmRoll } from "./rolling-swarm.js";
export { ANSIBLE_DIR, closeSshMasters, controlPathDir, DEFAULT_WORK_DIR, prepareRunDir, type RunDir, SITE_PLAYBOOK } from "./run-dir.js";
export { type PlaybookResult, playbookArgs, type RunPlaybookOptions, runPlaybook } from "./run-playbook.js";
export { unifiedDiff } from "./unified-diff.js";
export {
  type HostDrift,
  type HostVarPlan,
  planInventoryVariables,
  renderVarPlanMarkdown,
  type VarChange,
  type VarPlan,
} from "./var-plan.js";
