// The sim runner's executors: one CI job of a pipeline checkout, run by gitlab-ci-local in a container on a node (docker), or as gitlab-runner on the node (shell).

export { type CheckoutOptions, type PipelineCheckout, preparePipelineCheckout } from "./checkout.js";
export { sweepFileVariableLitter } from "./file-variable-litter.js";
export { buildHelperImage, ensureHelperImage, helperImageTag } from "./helper-image.js";
export { type FailureReason, type JobVariable, RUNNER_OWNED_VARIABLES } from "./invocation.js";
export { KILL_GRACE_S, type RunJobResult, type RunJobSpec, runJob } from "./run-job.js";
export { artifactsDir, pipelinePreview, runShellJob, type ShellJobSpec } from "./shell-job.js";
export { RUNNER_USER, runnerShortToken, type ShellJob, shellBuildLayout, shellJobFromPayload } from "./shell-plan.js";
export { withYamlVariables, yamlVariablesOf } from "./yaml-variables.js";
