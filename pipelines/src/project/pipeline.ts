import { DEFAULT_LB_PORT, type Fleet, InputError, nodesWithRole, poolNodes, type RunnerPool, resolveTopology } from "@pifleet/fleet";
import { forEachItem, job, template } from "../model/job.js";
import type { Job, PipelineSpec } from "../model/types.js";
import { when, workflowRules } from "./rules.js";

/** This file, named in the generated file's header. */
export const PROJECT_PIPELINE_SOURCE = "pipelines/src/project/pipeline.ts";
export const NODE_IMAGE = "node:20-bookworm";

export interface ProjectPipelineOptions {
  /** The fleet file as the repository names it (relative, e.g. examples/fleet.yaml); jobs read it via PIFLEET_FLEET. */
  fleetPath: string;
}

/** The first pool that has nodes and passes `fits`, preferring protected ones when asked; else an InputError saying what to add. */
function requirePool(fleet: Fleet, fits: (p: RunnerPool) => boolean, preferProtected: boolean, need: string, hint: string): RunnerPool {
  const candidates = fleet.pools.filter((p) => poolNodes(fleet, p).length > 0 && fits(p));
  const pool = (preferProtected ? candidates.find((p) => p.protected) : undefined) ?? candidates[0];
  if (!pool) throw new InputError(`the project pipeline needs ${need}, and the fleet has none`, hint);
  return pool;
}

/** The pool for container jobs: a docker-executor pool on arm64 Pis (the Pis build and test natively). */
function containerPool(fleet: Fleet): RunnerPool {
  return requirePool(
    fleet,
    (p) => p.executor === "docker" && poolNodes(fleet, p).some((n) => n.arch === "arm64"),
    false,
    "a docker-executor runner pool on arm64 nodes",
    "Add a pool with executor: docker that selects arm64 runner nodes (see examples/fleet.yaml, pool arm64-docker).",
  );
}

/** The pool for jobs that change the fleet: a shell-executor pool on the Pis, protected if there is one. */
function deployPool(fleet: Fleet): RunnerPool {
  return requirePool(
    fleet,
    (p) => p.executor === "shell",
    true,
    "a shell-executor runner pool (for configure, runners apply and deploy)",
    "Add a pool with executor: shell on one or two nodes (see examples/fleet.yaml, pool deploy).",
  );
}

/** Where the app answers: the load balancer, by default on the first swarm manager. */
function productionUrl(fleet: Fleet): string {
  const { loadBalancer, primaryManager } = resolveTopology(fleet);
  const { node, port } = loadBalancer ?? { node: primaryManager, port: DEFAULT_LB_PORT };
  return `http://${node.address}${port === 80 ? "" : `:${port}`}/`;
}

/**
 * The repository's own pipeline. MR pipelines verify and plan, and never touch
 * the Pis; the default branch configures, reconciles runners, builds and deploys.
 */
export function projectPipeline(fleet: Fleet, options: ProjectPipelineOptions): PipelineSpec {
  const onPis = { tags: [...containerPool(fleet).tags] };
  const onDeployPool = { tags: [...deployPool(fleet).tags] };
  const defaultBranchOnly = [when.defaultBranch];

  const node = template(".node", {
    cache: { key: { files: ["package-lock.json"] }, paths: ["node_modules/"] },
    // node_modules comes from the cache when package-lock.json has not changed.
    beforeScript: ["test -d node_modules || npm ci --no-audit --no-fund --prefer-offline"],
  });
  const pifleet = template(".pifleet", {
    extends: [node],
    beforeScript: ["test -d node_modules || npm ci --no-audit --no-fund --prefer-offline", "npx tsc -b"],
  });

  const lint = job("lint", { extends: [node], stage: "verify", script: ["npx biome check ."] });
  // Builds the sources, then type-checks every TypeScript file, tests included (vitest does not type-check).
  const typecheck = job("typecheck", { extends: [node], stage: "verify", script: ["npx tsc -b", "npm run typecheck"] });
  const unitTests = job("unit-tests", {
    extends: [node],
    stage: "verify",
    script: ["npx vitest run --project unit --reporter=default --reporter=junit --outputFile.junit=test-results/junit.xml"],
    artifacts: { reports: { junit: "test-results/junit.xml" }, when: "always", expireIn: "1 week" },
  });
  const pipelineCheck = job("pipeline-check", { extends: [pifleet], stage: "verify", script: ["npx pifleet pipeline check"] });
  const fleetValidate = job("fleet-validate", { extends: [pifleet], stage: "verify", script: ["npx pifleet validate"] });

  const mrOnly = [when.mergeRequest];
  // An MR-only job writing one markdown section of the plan note to NAME.md.
  const planSection = (name: string, command: string) =>
    job(name, {
      extends: [pifleet],
      stage: "plan",
      needs: [fleetValidate],
      script: [`npx pifleet ${command} > ${name}.md`],
      artifacts: { paths: [`${name}.md`], expireIn: "1 week" },
      rules: mrOnly,
    });
  const configurePlan = planSection("configure-plan", "configure --check --diff --format markdown");
  const runnersPlan = planSection("runners-plan", "runners plan --format markdown");
  // Reads what the Swarm runs (docker service inspect on a manager) and diffs it with this commit's images.
  const appPlan = planSection("app-plan", "app plan --format markdown");
  const planNote = job("plan-note", {
    extends: [pifleet],
    stage: "plan",
    needs: [configurePlan, runnersPlan, appPlan],
    script: [
      "cat configure-plan.md runners-plan.md app-plan.md > plan.md",
      // One note per MR, found again by its marker and updated in place.
      'npx pifleet mr note --project "$CI_PROJECT_ID" --mr "$CI_MERGE_REQUEST_IID" --file plan.md --marker plan',
    ],
    rules: mrOnly,
  });

  const configure = job("configure", {
    extends: [pifleet],
    ...onDeployPool,
    stage: "configure",
    script: ["npx pifleet configure"],
    resourceGroup: "fleet",
    interruptible: false,
    rules: defaultBranchOnly,
  });
  const runnersApply = job("runners-apply", {
    extends: [pifleet],
    ...onDeployPool,
    stage: "runners",
    needs: [configure],
    script: ["npx pifleet runners apply"],
    resourceGroup: "fleet",
    interruptible: false,
    rules: defaultBranchOnly,
  });
  const buildImage = job("build-image", {
    extends: [pifleet],
    ...onDeployPool,
    stage: "build",
    needs: [typecheck],
    parallel: { matrix: [{ ARCH: ["arm64", "amd64"] }] },
    script: [
      // pifleet builds content-tagged images locally; the registry copy is tagged by commit and arch.
      'npx pifleet app build --arch "$ARCH" --json > "build-$ARCH.json"',
      "APP_IMAGE=$(node -p \"require('./build-$ARCH.json').tags.app\")",
      'echo "$CI_REGISTRY_PASSWORD" | docker login --username "$CI_REGISTRY_USER" --password-stdin "$CI_REGISTRY"',
      'docker tag "$APP_IMAGE" "$COUNTER_IMAGE-$ARCH"',
      'docker push "$COUNTER_IMAGE-$ARCH"',
    ],
    rules: [when.defaultBranch, when.tag],
  });
  const deploy = job("deploy-production", {
    extends: [pifleet],
    ...onDeployPool,
    stage: "deploy",
    needs: [buildImage, runnersApply],
    // Builds or reuses the images for the app nodes' arch, pushes them to the cluster registry, waits for Swarm.
    script: ["npx pifleet app deploy"],
    environment: { name: "production", url: productionUrl(fleet), deploymentTier: "production" },
    resourceGroup: "production",
    interruptible: false,
    rules: defaultBranchOnly,
  });
  const smoke = job("smoke-test", {
    extends: [pifleet],
    ...onDeployPool,
    stage: "verify-deploy",
    needs: [deploy],
    script: [
      "npx pifleet app status",
      'curl --fail --silent --show-error --retry 10 --retry-delay 3 --retry-all-errors "$CI_ENVIRONMENT_URL"',
    ],
    environment: { name: "production", action: "verify" },
    rules: defaultBranchOnly,
  });

  // One readiness check per app node, then a counter check on that same node.
  const ready = job("ready", {
    ...onDeployPool,
    stage: "verify-deploy",
    needs: [deploy],
    script: ['curl --fail --silent --show-error --retry 10 --retry-delay 3 --retry-all-errors "$NODE_URL/readyz"'],
    rules: defaultBranchOnly,
  });
  const counts = job("counts", {
    ...onDeployPool,
    stage: "verify-deploy",
    needs: [ready],
    script: ['curl --fail --silent --show-error "$NODE_URL/api/stats"'],
    rules: defaultBranchOnly,
  });
  const port = fleet.app?.port ?? 8080;
  const perNode: Job[] = forEachItem(nodesWithRole(fleet, "app"), [ready, counts], (n) => ({
    suffix: `:${n.name}`,
    variables: { NODE_URL: `http://${n.address}:${port}` },
  }));

  return {
    workflow: { name: "$CI_COMMIT_REF_NAME: $CI_COMMIT_TITLE", autoCancel: { onNewCommit: "interruptible" }, rules: workflowRules },
    stages: ["verify", "plan", "configure", "runners", "build", "deploy", "verify-deploy"],
    variables: {
      PIFLEET_FLEET: { value: options.fleetPath, description: "The fleet file every pifleet command reads." },
      COUNTER_IMAGE: "$CI_REGISTRY_IMAGE/counter:$CI_COMMIT_SHORT_SHA",
      npm_config_cache: "$CI_PROJECT_DIR/.npm",
    },
    default: { image: NODE_IMAGE, interruptible: true, ...onPis },
    jobs: [
      node,
      pifleet,
      lint,
      typecheck,
      unitTests,
      pipelineCheck,
      fleetValidate,
      configurePlan,
      runnersPlan,
      appPlan,
      planNote,
      configure,
      runnersApply,
      buildImage,
      deploy,
      smoke,
      ...perNode,
    ],
  };
}
