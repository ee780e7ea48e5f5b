// Public API of @pifleet/counter-deploy: the counter's images, its Swarm stack, the rollout plan and its apply.
export { type AppTopology, appTopology, PLACEMENT_LABELS } from "./deploy/cluster.js";
export {
  type AppImages,
  type AppPlan,
  applyAppPlan,
  type DeployResult,
  deployStack,
  planApp,
  type RolloutOptions,
  type RolloutResult,
  registryRef,
  rollbackApp,
  stackStatus,
} from "./deploy/deploy.js";
export { observeSwarm, parseSwarmObservation, planObservedApp } from "./deploy/observation.js";
export type { FieldChange, RolloutPlan, ServiceChange, ServiceSpec, SwarmService, SwarmState } from "./deploy/plan.js";
export { renderRolloutPlanMarkdown, renderRolloutPlanText, rolloutPlanToJson } from "./deploy/plan-render.js";
export {
  handOffRedisPrimary,
  parseMasterAddress,
  parseReplicationInfo,
  type RedisHandOffOptions,
  type ReplicationInfo,
  redisPrimary,
} from "./deploy/redis-failover.js";
export type { RolloutOutcome, ServiceSnapshot, TaskRow } from "./deploy/rollout.js";
export {
  LB_HEALTH_PORT,
  REDIS_MASTER_NAME,
  REDIS_SENTINEL_PORT,
  renderStack,
  STACK_NAME,
  type StackImages,
  stackModel,
} from "./deploy/stack.js";
export { type BuildOptions, type BuildResult, buildAndPushImages, buildImages, type PushResult, plannedImageTags } from "./images/build.js";
export { IMAGE_ARCHES, IMAGE_LABEL, type ImageArch, type ImageTags } from "./images/recipe.js";
export {
  type BuildReport,
  digestOf,
  type PushedImage,
  parseBuildReport,
  parseImagesFile,
  pipelineImages,
  STACK_KINDS,
  type StackKind,
} from "./images/refs.js";
export { pushManifestLists } from "./images/registry.js";
export { type LoadOptions, type LoadResult, type LoadRun, runLoad, startLoad } from "./load/probe.js";
export { type LoadSample, type LoadSummary, renderLoadSummary, summarizeLoad } from "./load/summary.js";
export { isLoadableAddress, loadTarget } from "./load/target.js";
