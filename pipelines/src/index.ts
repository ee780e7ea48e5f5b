export { AMD64_ONLY_IMAGES, isAmd64Only } from "./lint/fleet-checks.js";
export { type LintOptions, type LintResult, lintText } from "./lint/lint.js";
export { LIMITS } from "./lint/semantic.js";
export * from "./model/job.js";
export type * from "./model/types.js";
export { emitYaml, header, type Provenance } from "./render/emit.js";
export { snakeCase, toGitlabKeys, USER_OWNED_MAPS } from "./render/keys.js";
export { deriveStages, type GitlabCiDocument, renderPipeline } from "./render/render.js";
