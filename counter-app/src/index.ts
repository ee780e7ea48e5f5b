// Public API of @pifleet/counter-app: the app, its images, its Swarm stack and the rollout.
export { type AppConfig, ConfigError, loadConfig } from "./app/config.js";
export { isValidPageKey, PAGE_KEY } from "./app/keys.js";
export { type RunningApp, startCounterApp } from "./app/server.js";
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
