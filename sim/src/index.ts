// Public API of @pifleet/sim: the simulated Pi fleet, and the GitLab API emulator.

export * from "./ci-runner/index.js";
export { type SimDownResult, simDown } from "./down.js";
export { FAULT_ACTIONS, type FaultAction, simFault } from "./fault.js";
export * from "./gitlab/index.js";
export { SIM_ARCHES, SIM_LABEL, type SimArch } from "./layout.js";
export { type SimMirrorOptions, type SimMirrorResult, simMirror } from "./mirror/mirror.js";
export { MIRROR_IMAGES, type MirrorImage, type MirrorRefs, mirrorRefs } from "./mirror/recipe.js";
export { type NodeState, type SimNodeStatus, type SimStatus, simStatus } from "./status.js";
export { DEFAULT_SIM_DIR, type SimUpOptions, simUp } from "./up.js";
