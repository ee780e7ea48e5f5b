// The sim runner's executor: one CI job of a pipeline checkout, run by gitlab-ci-local on a node.

export { type CheckoutOptions, type PipelineCheckout, preparePipelineCheckout } from "./checkout.js";
export { sweepFileVariableLitter } from "./file-variable-litter.js";
export { buildHelperImage, ensureHelperImage, helperImageTag } from "./helper-image.js";
export { type FailureReason, type JobVariable, RUNNER_OWNED_VARIABLES } from "./invocation.js";
export { KILL_GRACE_S, type RunJobResult, type RunJobSpec, runJob } from "./run-job.js";
