// Public API of @pifleet/sim: the simulated Pi fleet, and the GitLab API emulator.

export * from "./ci-runner/index.js";
export { type FollowEnd, type FollowOptions, followPipeline } from "./ci-view/follow.js";
export { type ApiJob, type ApiPipeline, failedJobs, findJob, type JobView, type PipelineView } from "./ci-view/model.js";
export { newestPipelineId, readPipelineView, readTrace } from "./ci-view/read.js";
export { type Change, changesBetween, fitWidth, type PipelineReport, redraw, renderChange, renderPipeline } from "./ci-view/render.js";
export { type SimDownResult, simDown } from "./down.js";
export { FAULT_ACTIONS, type FaultAction, simFault } from "./fault.js";
export * from "./gitlab/index.js";
export { SIM_ARCHES, SIM_LABEL, type SimArch } from "./layout.js";
export { type SimMirrorOptions, type SimMirrorResult, simMirror } from "./mirror/mirror.js";
export {
  MIRROR_IMAGES,
  type MirrorImage,
  type MirrorRefs,
  mirrorRefs,
  NODE_VERSION as MIRROR_NODE_VERSION,
  NPM_VERSION as MIRROR_NPM_VERSION,
} from "./mirror/recipe.js";
export { SIM_DEFAULT_BRANCH, SIM_PROJECT_FLEET_FILE, SIM_PROJECT_KNOWN_HOSTS, SIM_PROJECT_PATH } from "./project/layout.js";
export { type SimPushOptions, type SimPushResult, simPush } from "./project/push.js";
export { type SimGitlabTarget, simGitlabTarget } from "./project/target.js";
export {
  type DesiredVariable,
  desiredVariables,
  type ExistingVariable,
  FLEET_ENVIRONMENT,
  type ProjectVariableInputs,
  planVariables,
  RETIRED_KEYS,
  type VariablePlan,
} from "./project/variables.js";
export { applyVariables, listVariables, NOTE_TOKEN_NAME, noteTokenFor, type ProjectApi } from "./project/variables-api.js";
export { type NodeState, type SimNodeStatus, type SimStatus, simStatus } from "./status.js";
export { DEFAULT_SIM_DIR, type SimUpOptions, simUp } from "./up.js";
