import { type Fleet, resolveTopology } from "@pifleet/fleet";
import { job, template } from "../model/job.js";
import type { Job, PipelineSpec, Variables } from "../model/types.js";
import { pipelinePools } from "./pools.js";
import { CODE_CHANGES, notScheduled, when, workflowRules } from "./rules.js";

/** This file, named in the generated file's header. */
export const PROJECT_PIPELINE_SOURCE = "pipelines/src/project/pipeline.ts";

/** The public images the pipeline starts from; an air-gapped GitLab overrides them with project CI/CD variables (the sim does). */
export const PUBLIC_IMAGES = {
  PIFLEET_NODE_IMAGE: "node:24-bookworm",
  PIFLEET_DOCKER_IMAGE: "docker:27-cli",
  PIFLEET_DEBIAN_IMAGE: "debian:bookworm-slim",
} as const;

/** The pifleet image in the cluster registry, by tag. */
const pifleetImage = (tag: string) => `$PIFLEET_REGISTRY/pifleet/pifleet:${tag}`;
/** Where build-image pushes the app's images; app-plan names the same refs (quoted for the job's shell). */
const APP_IMAGE_PREFIX = '"$PIFLEET_REGISTRY/pifleet"';
/** What this commit's pifleet-image job pushes. */
const THIS_COMMIT_IMAGE = pifleetImage("$CI_COMMIT_SHA");
/** What the default branch last pushed: MR pipelines (no protected runner, so no image build) use it, and builds cache from it. */
const DEFAULT_BRANCH_IMAGE = pifleetImage("$CI_DEFAULT_BRANCH");

/**
 * The fleet's GitLab environment. The deploy credentials (PIFLEET_SSH_KEY, GITLAB_TOKEN) are scoped to it,
 * so only the jobs naming it get them, and every such job runs on the protected deploy pool
 * (docs/security.md, design D). sim's project variables scope them to the same name (a unit test holds the two together).
 */
export const FLEET_ENVIRONMENT = "production";

/**
 * Where merge-request plans read the fleet from: the default branch's last fleet-observe artifact, with
 * the job token. A network failure fails the job (curl's exit); the HTTP status is checked after.
 */
const FETCH_OBSERVATION =
  'status=$(curl --silent --show-error --location --header "JOB-TOKEN: $CI_JOB_TOKEN" --output observed.json --write-out "%{http_code}" "$CI_API_V4_URL/projects/$CI_PROJECT_ID/jobs/artifacts/$CI_DEFAULT_BRANCH/raw/observed.json?job=fleet-observe")';

/**
 * The plan section's lines after the fetch. GitLab answers 404 while the default branch has no fleet-observe
 * artifact (an MR opened before main's first pipeline passed): the section says so and the note still goes
 * out; any other answer but 200 fails the job, naming the status.
 */
const planFromObservation = (section: string, command: string) => [
  `if [ "$status" = 404 ]; then printf '%s\\n' "**${section}:** not planned yet: the default branch has no fleet-observe artifact (its pipeline has not observed the fleet). Run this pipeline again once the default branch's pipeline has passed." > ${section}.md; exit 0; fi`,
  `if [ "$status" != 200 ]; then echo "fetching the default branch's observation (observed.json of job fleet-observe) failed: HTTP $status" >&2; exit 1; fi`,
  `pifleet ${command} --observed observed.json > ${section}.md`,
];

export interface ProjectPipelineOptions {
  /** The fleet file as the repository names it (relative, e.g. examples/fleet.yaml); jobs read it via PIFLEET_FLEET. */
  fleetPath: string;
}

/** Where the app answers, without a trailing slash: the load balancer's published port. */
function appUrl(fleet: Fleet): string {
  const { loadBalancer, primaryManager } = resolveTopology(fleet);
  // Without an app section nothing answers; the URL is where the LB would be (first manager, port 80).
  return loadBalancer?.url ?? `http://${primaryManager.address}`;
}

function globalVariables(fleet: Fleet, options: ProjectPipelineOptions): Variables {
  return {
    PIFLEET_FLEET: { value: options.fleetPath, description: "The fleet file every pifleet command reads." },
    PIFLEET_REGISTRY: { value: resolveTopology(fleet).registry.host, description: "The cluster's image registry (address:port)." },
    PIFLEET_IMAGE: { value: THIS_COMMIT_IMAGE, description: "The pifleet image every pifleet job runs in." },
    PIFLEET_NODE_IMAGE: {
      value: PUBLIC_IMAGES.PIFLEET_NODE_IMAGE,
      description: "Base of the pifleet image: Debian bookworm with Node 24 (LTS) and npm.",
    },
    PIFLEET_DOCKER_IMAGE: {
      value: PUBLIC_IMAGES.PIFLEET_DOCKER_IMAGE,
      description: "A docker CLI image, for the job that builds the pifleet image.",
    },
    PIFLEET_DEBIAN_IMAGE: { value: PUBLIC_IMAGES.PIFLEET_DEBIAN_IMAGE, description: "Base of the app's images." },
    PIFLEET_BUILD_PROXY: { value: "", description: "http(s) proxy for apt and npm inside image builds; empty: none." },
  };
}

/**
 * The repository's own pipeline. Every job runs in a container. MR pipelines verify and plan
 * with the default branch's pifleet image and never change a Pi; the default branch builds the
 * pifleet image, then configures, reconciles runners, rolls what the converge recorded, builds the
 * app's images once per arch and deploys exactly those. Schedules observe; the upgrade schedule also upgrades.
 */
export function projectPipeline(fleet: Fleet, options: ProjectPipelineOptions): PipelineSpec {
  const pools = pipelinePools(fleet);
  const onDeployPool = { tags: [...pools.deploy.pool.tags] };
  const defaultBranchOnly = [when.defaultBranch];
  // Scheduled pipelines observe the fleet (and, on the upgrade schedule, upgrade it): nothing else.
  const unlessScheduled = [notScheduled, { when: "on_success" as const }];
  const inFleetEnvironment = (action: "start" | "prepare" | "verify" | "access") => ({ name: FLEET_ENVIRONMENT, action });
  const defaultBranchAndTags = [when.defaultBranch, when.tag];

  // Builds the pifleet image with the deploy node's own engine (through its socket), reusing the
  // layers of the default branch's image, so a fleet-only change rebuilds nothing.
  const pifleetImageJob = job("pifleet-image", {
    ...onDeployPool,
    stage: "image",
    image: "$PIFLEET_DOCKER_IMAGE",
    script: [
      `docker pull "${DEFAULT_BRANCH_IMAGE}" || true`,
      [
        `docker build --cache-from "${DEFAULT_BRANCH_IMAGE}" --build-arg BUILDKIT_INLINE_CACHE=1`,
        '--build-arg PIFLEET_NODE_IMAGE --build-arg http_proxy="$PIFLEET_BUILD_PROXY" --build-arg https_proxy="$PIFLEET_BUILD_PROXY"',
        '-f pipelines/image/Dockerfile -t "$PIFLEET_IMAGE" .',
      ].join(" "),
      `docker tag "$PIFLEET_IMAGE" "${pifleetImage("$CI_COMMIT_REF_SLUG")}"`,
      'docker push "$PIFLEET_IMAGE"',
      `docker push "${pifleetImage("$CI_COMMIT_REF_SLUG")}"`,
    ],
    rules: defaultBranchAndTags,
  });

  // Verify jobs test this checkout with the image's tools: its node_modules when the lock file is
  // the image's, else npm ci. They run only when code or its configuration changed.
  const checkout = template(".checkout", { stage: "verify", beforeScript: ["sh pipelines/image/checkout-deps.sh"] });
  const verifyCode = template(".verify-code", { extends: [checkout], rules: [notScheduled, { changes: CODE_CHANGES }] });
  const lint = job("lint", { extends: [verifyCode], script: ["npx biome check ."] });
  // Builds the sources, then type-checks every TypeScript file, tests included (vitest does not type-check).
  const typecheck = job("typecheck", { extends: [verifyCode], script: ["npx tsc -b", "npm run typecheck"] });
  const unitTests = job("unit-tests", {
    extends: [verifyCode],
    // Some tests run the built CLI.
    script: ["npx tsc -b", "npx vitest run --project unit --reporter=default --reporter=junit --outputFile.junit=test-results/junit.xml"],
    artifacts: { reports: { junit: "test-results/junit.xml" }, when: "always", expireIn: "1 week" },
  });
  // Always: a fleet-only change must come with its regenerated .gitlab-ci.yml. The checkout's
  // generator decides, not the image's (an MR's image is the default branch's).
  const pipelineCheck = job("pipeline-check", {
    extends: [checkout],
    script: ["npx tsc -b", "npx pifleet pipeline check"],
    rules: unlessScheduled,
  });

  // pifleet jobs run the image's `pifleet`. ssh refuses a key file others may read, and a file
  // variable's mode is the runner's choice, so pifleet reads a private copy; the added newline
  // saves a key pasted without its last one, which OpenSSH cannot load.
  const pifleet = template(".pifleet", {
    beforeScript: [
      'if [ -n "$PIFLEET_SSH_KEY" ]; then key=$(mktemp) && { cat "$PIFLEET_SSH_KEY"; echo; } > "$key" && export PIFLEET_SSH_KEY="$key"; fi',
    ],
  });
  const fleetValidate = job("fleet-validate", {
    extends: [pifleet],
    stage: "verify",
    script: ["pifleet validate"],
    rules: unlessScheduled,
  });

  // MR plan jobs hold no fleet credential (docs/security.md, design D): they plan this commit's fleet file
  // against the default branch's last observation, fetched with the job token (the triggering user's rights).
  const mrOnly = [when.mergeRequest];
  const planSection = (name: string, command: string) =>
    job(name, {
      extends: [pifleet],
      stage: "plan",
      needs: [fleetValidate],
      script: [FETCH_OBSERVATION, ...planFromObservation(name, command)],
      artifacts: { paths: [`${name}.md`], expireIn: "1 week" },
      rules: mrOnly,
    });
  // Inventory variables against the fleet file the observation was made with, plus its recorded drift.
  const configurePlan = planSection("configure-plan", "configure");
  const runnersPlan = planSection("runners-plan", "runners plan --format markdown");
  // Names the images as the default branch's deploy will: the manifest lists build-image pushes under the same prefix.
  const appPlan = planSection("app-plan", `app plan --prefix ${APP_IMAGE_PREFIX} --format markdown`);
  const planNote = job("plan-note", {
    extends: [pifleet],
    stage: "plan",
    needs: [configurePlan, runnersPlan, appPlan],
    script: [
      "cat configure-plan.md runners-plan.md app-plan.md > plan.md",
      // Which commit the plan is of: a reviewer sees the note follow each push (and the note changes with it).
      `printf '\\n_Plan of %s, [pipeline #%s](%s)._\\n' "$CI_COMMIT_SHORT_SHA" "$CI_PIPELINE_IID" "$CI_PIPELINE_URL" >> plan.md`,
      // One note per MR, found again by its marker and updated in place; the note token is a Reporter's (can comment, nothing more).
      'pifleet mr note --token-env PIFLEET_NOTE_TOKEN --project "$CI_PROJECT_ID" --mr "$CI_MERGE_REQUEST_IID" --file plan.md --marker plan',
    ],
    rules: mrOnly,
  });

  // The jobs that change the fleet take turns across pipelines: one resource group.
  // They name the fleet's environment (so they get its credentials) and run on the protected deploy pool.
  const changesFleet = { ...onDeployPool, extends: [pifleet], resourceGroup: "fleet", interruptible: false, rules: defaultBranchOnly };
  const configure = job("configure", {
    ...changesFleet,
    stage: "configure",
    script: ["pifleet configure"],
    environment: inFleetEnvironment("prepare"),
  });
  // Also pauses, drains and deletes the runners of nodes that left the fleet.
  const runnersApply = job("runners-apply", {
    ...changesFleet,
    stage: "runners",
    needs: [configure],
    script: ["pifleet runners apply"],
    environment: inFleetEnvironment("prepare"),
  });

  // Rolls the reboots and engine restarts a converge recorded (docs/rolling-changes.md), one node at a time,
  // before the deploy: an engine restart may be what lets a node pull the new images, and the deploy then
  // rolls the app out once, onto a settled fleet, instead of the roll moving freshly deployed tasks again.
  // After runners-apply, so a new node's runners exist to be drained. Nothing recorded: a read of each node, no change.
  const upgradePending = job("upgrade-pending", {
    ...changesFleet,
    stage: "upgrade",
    needs: [runnersApply],
    script: ["pifleet upgrade --pending-only --yes"],
    environment: inFleetEnvironment("prepare"),
  });
  // OS updates on a schedule (CI/CD → Schedules, variable PIFLEET_SCHEDULE=upgrade), rolled the same way.
  const upgradeScheduled = job("upgrade", {
    ...changesFleet,
    stage: "upgrade",
    script: ["pifleet upgrade --yes"],
    environment: inFleetEnvironment("prepare"),
    rules: [when.upgradeSchedule],
  });

  // Build once, natively on each arch's socket pool; the deploy rolls out exactly these images.
  const builds: Job[] = pools.builders.map(({ pool, arch }) =>
    job(`build-image:${arch}`, {
      extends: [pifleet],
      tags: [...pool.tags],
      stage: "build",
      needs: [pifleetImageJob],
      script: [
        `pifleet app build --arch ${arch} --base-image "$PIFLEET_DEBIAN_IMAGE" --push ${APP_IMAGE_PREFIX} --json > build-${arch}.json`,
      ],
      artifacts: { paths: [`build-${arch}.json`], expireIn: "1 week" },
      rules: defaultBranchAndTags,
    }),
  );
  const appManifest = job("app-manifest", {
    extends: [pifleet],
    ...onDeployPool,
    stage: "build",
    needs: builds,
    // Multi-arch manifest lists, pinned by digest.
    script: ["pifleet app manifest build-*.json --json > images.json"],
    artifacts: { paths: ["images.json"], expireIn: "30 days" },
    rules: defaultBranchAndTags,
  });
  const deploy = job("deploy", {
    ...changesFleet,
    stage: "deploy",
    needs: [appManifest, upgradePending],
    script: ["pifleet app deploy --images images.json"],
    environment: { name: FLEET_ENVIRONMENT, url: `${appUrl(fleet)}/`, deploymentTier: "production" },
  });
  // What people reach: the load balancer's published port, then what the Swarm runs.
  // On the deploy pool: `app status` reads the Swarm over SSH, with the environment's key.
  const smoke = job("smoke-test", {
    extends: [pifleet],
    ...onDeployPool,
    stage: "verify-deploy",
    needs: [deploy],
    variables: { APP_URL: appUrl(fleet) },
    script: [
      'curl --fail --silent --show-error --retry 10 --retry-delay 3 --retry-all-errors "$APP_URL/readyz"',
      // A view is counted (its number is returned) and the next one counts on from it.
      'first=$(curl --fail --silent --show-error "$APP_URL/api/views/pipeline-smoke-test" | jq -e .views)',
      'second=$(curl --fail --silent --show-error "$APP_URL/api/views/pipeline-smoke-test" | jq -e .views)',
      'test "$second" -gt "$first"',
      "pifleet app status",
    ],
    environment: inFleetEnvironment("verify"),
    rules: defaultBranchOnly,
  });
  // What MR plans read instead of the fleet: after each deploy, and on a schedule so that changes made
  // outside pipelines (the GitLab UI, a Pi replaced) show up; scheduled runs also record configure drift.
  const fleetObserve = job("fleet-observe", {
    ...changesFleet,
    stage: "observe",
    // Records the fleet as the deploy or the scheduled upgrade left it.
    needs: [
      { job: deploy, artifacts: false, optional: true },
      { job: upgradeScheduled, artifacts: false, optional: true },
    ],
    script: ["pifleet observe $PIFLEET_OBSERVE_FLAGS --out observed.json"],
    artifacts: { paths: ["observed.json"], expireIn: "30 days" },
    environment: inFleetEnvironment("access"),
    rules: [{ ...when.schedule, variables: { PIFLEET_OBSERVE_FLAGS: "--drift" } }, when.defaultBranch],
  });

  return {
    workflow: {
      name: "$CI_COMMIT_REF_NAME: $CI_COMMIT_TITLE",
      autoCancel: { onNewCommit: "interruptible" },
      rules: workflowRules({ PIFLEET_IMAGE: DEFAULT_BRANCH_IMAGE }),
    },
    stages: ["image", "verify", "plan", "configure", "runners", "upgrade", "build", "deploy", "verify-deploy", "observe"],
    variables: globalVariables(fleet, options),
    default: { image: "$PIFLEET_IMAGE", interruptible: true, tags: [...pools.container.pool.tags] },
    jobs: [
      pifleetImageJob,
      checkout,
      verifyCode,
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
      upgradePending,
      upgradeScheduled,
      ...builds,
      appManifest,
      deploy,
      smoke,
      fleetObserve,
    ],
  };
}
