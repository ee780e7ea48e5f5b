// Public API of @pifleet/counter-deploy: the counter's images, its Swarm stack, the rollout plan and its apply.
export { type AppTopology, appTopology, PLACEMENT_LABELS } from "./deploy/cluster.js";
export {
  type DeployResult,
  deployStack,
  type RolloutOptions,
  type RolloutResult,
  registryRef,
  rollbackApp,
  stackStatus,
} from "./deploy/deploy.js";
export type { RolloutOutcome, ServiceSnapshot, TaskRow } from "./deploy/rollout.js";
export { renderStack, STACK_NAME, type StackImages, stackModel } from "./deploy/stack.js";
export { type BuildResult, buildImages } from "./images/build.js";
export { IMAGE_LABEL, type ImageArch, type ImageTags } from "./images/recipe.js";
