import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Fleet, InputError, parseFleet } from "@pifleet/fleet";
import { MIRROR_IMAGES, FLEET_ENVIRONMENT as VARIABLES_ENVIRONMENT } from "@pifleet/sim";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { syntheticFleet } from "../bench/synthetic-fleet.js";
import { fleetPathOf, generateProjectPipeline } from "../generate.js";
import { lintText } from "../lint/lint.js";
import { schemaProblems } from "../lint/schema.js";
import { FLEET_ENVIRONMENT, PUBLIC_IMAGES, projectPipeline } from "./pipeline.js";
import { CODE_CHANGES, notScheduled, WORKSPACES, when } from "./rules.js";

const ROOT = new URL("../../../", import.meta.url);
const fleet = parseFleet(readFileSync(new URL("examples/fleet.yaml", ROOT), "utf8"), "examples/fleet.yaml");
// The committed file names the fleet it was generated from: examples/fleet.yaml here, the sim's fleet in
// the project `pifleet sim push` makes. The other tests read the examples' pipeline, whichever is committed.
const committed = readFileSync(new URL(".gitlab-ci.yml", ROOT), "utf8");
const committedFleetPath = fleetPathOf(committed) ?? "examples/fleet.yaml";
const committedFleet = parseFleet(readFileSync(new URL(committedFleetPath, ROOT), "utf8"), committedFleetPath);
const generated = generateProjectPipeline(fleet, "examples/fleet.yaml").text;

interface JobBody {
  image?: string;
  script?: string[];
  before_script?: string[];
  rules?: Array<{ if?: string; changes?: string[]; when?: string; variables?: Record<string, string> }>;
  tags?: string[];
  resource_group?: string;
  interruptible?: boolean;
  needs?: Array<string | { job: string; optional?: boolean }>;
  variables?: Record<string, string>;
  environment?: { name: string; url?: string; action?: string };
}

/** Every visible job as GitLab runs it: extends and default applied. */
function jobsOf(text: string): Map<string, JobBody> {
  return lintText(text, ".gitlab-ci.yml").jobs as Map<string, JobBody>;
}
const jobs = jobsOf(generated);
const jobNames = [...jobs.keys()];
const body = (name: string): JobBody => jobs.get(name) ?? expect.unreachable(`no job ${name}`);

/** The pipeline kinds the workflow allows, as the `if`s that are true in them. */
const KINDS = {
  "merge request": [when.mergeRequest.if],
  "default branch": [when.defaultBranch.if],
  schedule: [when.schedule.if, notScheduled.if],
  "upgrade schedule": [when.schedule.if, notScheduled.if, when.upgradeSchedule.if],
  tag: [when.tag.if],
} as const;
type Kind = keyof typeof KINDS;

/** Whether a job may run in a pipeline of that kind: no rules, or its first rule that holds (no `if`: changes only) is not `when: never`. */
function runsIn(kind: Kind, name: string): boolean {
  const rules = body(name).rules;
  const first = rules?.find((r) => r.if === undefined || (KINDS[kind] as readonly string[]).includes(r.if));
  return rules === undefined || (first !== undefined && first.when !== "never");
}

const needName = (need: string | { job: string }) => (typeof need === "string" ? need : need.job);

describe("the repository's .gitlab-ci.yml", () => {
  it("is exactly what the code generates from the fleet it names (pifleet pipeline check passes)", () => {
    expect(generateProjectPipeline(committedFleet, committedFleetPath).text).toBe(committed);
  });

  it("validates against GitLab's schema and lints clean with the fleet-aware checks", () => {
    for (const [text, f, file] of [
      [committed, committedFleet, committedFleetPath],
      [generated, fleet, "examples/fleet.yaml"],
    ] as const) {
      expect(schemaProblems(parse(text))).toEqual([]);
      expect(lintText(text, ".gitlab-ci.yml", { fleet: { fleet: f, file } }).diagnostics).toEqual([]);
    }
  });

  it("MR pipelines verify and plan only: no job that changes the Pis or pushes an image runs for a merge request", () => {
    expect(jobNames.filter((n) => runsIn("merge request", n))).toEqual([
      "lint",
      "typecheck",
      "unit-tests",
      "pipeline-check",
      "fleet-validate",
      "configure-plan",
      "runners-plan",
      "app-plan",
      "plan-note",
    ]);
    const changing = /pifleet (configure(?! --check| --observed)|runners apply|upgrade|app deploy|app build)|docker (build|push)/;
    const changers = jobNames.filter((n) => body(n).script?.some((line) => changing.test(line)));
    expect(changers).toEqual(["pifleet-image", "configure", "runners-apply", "upgrade-pending", "upgrade", "build-image:arm64", "deploy"]);
    for (const n of changers) expect(runsIn("merge request", n), n).toBe(false);
  });

  it("every job runs in a container: the pifleet image, except the job that builds it with the docker CLI image", () => {
    for (const n of jobNames) expect(body(n).image, n).toBe(n === "pifleet-image" ? "$PIFLEET_DOCKER_IMAGE" : "$PIFLEET_IMAGE");
    const doc = parse(generated) as {
      variables: Record<string, { value: string }>;
      workflow: { rules: Array<{ if?: string; variables?: object }> };
    };
    expect(doc.variables.PIFLEET_IMAGE?.value).toBe("$PIFLEET_REGISTRY/pifleet/pifleet:$CI_COMMIT_SHA");
    // MR pipelines build no image (no protected runner takes their jobs): they use the default branch's.
    const mrRule = doc.workflow.rules.find((r) => r.if === when.mergeRequest.if);
    expect(mrRule?.variables).toEqual({ PIFLEET_IMAGE: "$PIFLEET_REGISTRY/pifleet/pifleet:$CI_DEFAULT_BRANCH" });
  });

  it("names every external image by a variable whose default is the public image, and the registry from the fleet", () => {
    const vars = (parse(generated) as { variables: Record<string, { value: string }> }).variables;
    expect(Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, v.value]))).toMatchObject({
      PIFLEET_NODE_IMAGE: "node:24-bookworm",
      PIFLEET_DOCKER_IMAGE: "docker:27-cli",
      PIFLEET_DEBIAN_IMAGE: "debian:bookworm-slim",
      PIFLEET_BUILD_PROXY: "",
      PIFLEET_REGISTRY: "192.168.1.11:5000",
    });
    const imageJob = body("pifleet-image").script?.join("\n") ?? "";
    expect(imageJob).toContain('--cache-from "$PIFLEET_REGISTRY/pifleet/pifleet:$CI_DEFAULT_BRANCH"');
    expect(imageJob).toContain('--build-arg PIFLEET_NODE_IMAGE --build-arg http_proxy="$PIFLEET_BUILD_PROXY"');
    expect(imageJob).toContain('docker push "$PIFLEET_IMAGE"');
    expect(imageJob).toContain('docker push "$PIFLEET_REGISTRY/pifleet/pifleet:$CI_COMMIT_REF_SLUG"');
    expect(body("build-image:arm64").script).toEqual([
      'pifleet app build --arch arm64 --base-image "$PIFLEET_DEBIAN_IMAGE" --push "$PIFLEET_REGISTRY/pifleet" --json > build-arm64.json',
    ]);
  });

  it("names the same public images the sim's stand-ins replace (the sim's Node is the version the app image pins)", () => {
    expect(Object.fromEntries(MIRROR_IMAGES.map((i) => [i.variable, i.publicName]))).toEqual(PUBLIC_IMAGES);
  });

  it("pifleet jobs use the image's pifleet: no npm ci or tsc, and the SSH key copied private before use", () => {
    const pifleetJobs = jobNames.filter((n) => body(n).script?.some((l) => /^pifleet /.test(l)));
    expect(pifleetJobs.length).toBe(14);
    for (const n of pifleetJobs) {
      const lines = [...(body(n).before_script ?? []), ...(body(n).script ?? [])].join("\n");
      expect(lines, n).not.toMatch(/npm ci|tsc/);
      expect(body(n).before_script?.[0], n).toMatch(
        /key=\$\(mktemp\) && \{ cat "\$PIFLEET_SSH_KEY"; echo; \} > "\$key" && export PIFLEET_SSH_KEY="\$key"/,
      );
    }
  });

  it("an MR plan job says there is nothing to plan against while the default branch has no observation, and fails on any other error", () => {
    // The job's lines as a runner's shell runs them (set -e), with curl and pifleet as stand-ins on PATH.
    const runPlanJob = (httpStatus: string, curlExit = 0) => {
      const dir = mkdtempSync(join(tmpdir(), "plan-job-"));
      writeFileSync(join(dir, "curl"), `#!/bin/sh\nprintf '%s' ${httpStatus}\nexit ${curlExit}\n`, { mode: 0o755 });
      writeFileSync(join(dir, "pifleet"), '#!/bin/sh\necho "planned: $*"\n', { mode: 0o755 });
      const script = ["set -eo pipefail", ...(body("configure-plan").script ?? [])].join("\n");
      const r = spawnSync("bash", ["-c", script], { cwd: dir, encoding: "utf8", env: { PATH: `${dir}:${process.env.PATH}`, HOME: dir } });
      const section = existsSync(join(dir, "configure-plan.md")) ? readFileSync(join(dir, "configure-plan.md"), "utf8") : undefined;
      return { code: r.status, stderr: r.stderr, section };
    };
    const missing = runPlanJob("404");
    expect(missing.code).toBe(0);
    expect(missing.section).toContain("**configure-plan:** not planned yet: the default branch has no fleet-observe artifact");
    const found = runPlanJob("200");
    expect(found).toMatchObject({ code: 0, section: "planned: configure --observed observed.json\n" });
    const refused = runPlanJob("403");
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("fetching the default branch's observation (observed.json of job fleet-observe) failed: HTTP 403");
    expect(runPlanJob("000", 7).code).not.toBe(0);
  });

  it("MR plan jobs hold no credential: they plan against the default branch's observation, fetched with the job token", () => {
    const unprotected = fleet.pools.find((p) => p.name === "arm64-docker");
    for (const n of ["configure-plan", "runners-plan", "app-plan", "plan-note"]) {
      expect(body(n).variables, n).toBeUndefined();
      expect(body(n).environment, n).toBeUndefined();
      expect(body(n).tags, n).toEqual(unprotected?.tags);
    }
    for (const n of ["configure-plan", "runners-plan", "app-plan"]) {
      const script = body(n).script ?? [];
      expect(script[0], n).toContain('--header "JOB-TOKEN: $CI_JOB_TOKEN"');
      expect(script[0], n).toContain(
        '"$CI_API_V4_URL/projects/$CI_PROJECT_ID/jobs/artifacts/$CI_DEFAULT_BRANCH/raw/observed.json?job=fleet-observe"',
      );
      expect(script.at(-1), n).toMatch(/^pifleet .* --observed observed\.json > /);
    }
    expect(body("configure-plan").script?.at(-1)).toBe("pifleet configure --observed observed.json > configure-plan.md");
    expect(body("plan-note").script).toContain(
      'pifleet mr note --token-env PIFLEET_NOTE_TOKEN --project "$CI_PROJECT_ID" --mr "$CI_MERGE_REQUEST_IID" --file plan.md --marker plan',
    );
  });

  it("only jobs naming the fleet's environment get its credentials, and every one of them runs on the protected pool", () => {
    const protectedPools = fleet.pools.filter((p) => p.protected).map((p) => p.tags);
    // The environment the project's key and token are scoped to (sim push and bootstrap set them).
    expect(FLEET_ENVIRONMENT).toBe(VARIABLES_ENVIRONMENT);
    const named = jobNames.filter((n) => body(n).environment?.name === FLEET_ENVIRONMENT);
    expect(named.sort()).toEqual(["configure", "deploy", "fleet-observe", "runners-apply", "smoke-test", "upgrade", "upgrade-pending"]);
    for (const n of named) {
      expect(protectedPools, n).toContainEqual(body(n).tags);
      expect(runsIn("merge request", n), n).toBe(false);
    }
    // No job is handed the deploy credentials under another name.
    for (const n of jobNames) expect(Object.values(body(n).variables ?? {}).join(" "), n).not.toMatch(/PIFLEET_SSH_KEY|GITLAB_TOKEN|PLAN_/);
  });

  it("fleet-observe records the fleet after each deploy and on a schedule, with drift in scheduled runs only", () => {
    const observe = body("fleet-observe");
    expect(observe.script).toEqual(["pifleet observe $PIFLEET_OBSERVE_FLAGS --out observed.json"]);
    expect(observe.needs).toEqual([
      { job: "deploy", artifacts: false, optional: true },
      { job: "upgrade", artifacts: false, optional: true },
    ]);
    expect(observe.resource_group).toBe("fleet");
    expect(observe.rules).toEqual([
      { if: when.schedule.if, variables: { PIFLEET_OBSERVE_FLAGS: "--drift" } },
      { if: when.defaultBranch.if },
    ]);
    expect(jobNames.filter((n) => runsIn("schedule", n))).toEqual(["fleet-observe"]);
  });

  it("rolls what a converge recorded after runners-apply and before the deploy, and upgrades the OS on the upgrade schedule only", () => {
    expect(body("upgrade-pending").script).toEqual(["pifleet upgrade --pending-only --yes"]);
    expect(body("upgrade-pending").needs).toEqual(["runners-apply"]);
    expect(body("runners-apply").needs).toEqual(["configure"]);
    expect(body("deploy").needs).toContain("upgrade-pending");
    expect(runsIn("default branch", "upgrade-pending")).toBe(true);
    expect(body("upgrade").script).toEqual(["pifleet upgrade --yes"]);
    expect(body("upgrade").rules).toEqual([
      { if: '$CI_PIPELINE_SOURCE == "schedule" && $PIFLEET_SCHEDULE == "upgrade" && $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH' },
    ]);
    expect(jobNames.filter((n) => runsIn("upgrade schedule", n))).toEqual(["upgrade", "fleet-observe"]);
    for (const kind of ["merge request", "default branch", "schedule", "tag"] as const) expect(runsIn(kind, "upgrade"), kind).toBe(false);
    for (const n of ["upgrade-pending", "upgrade"]) {
      expect(body(n).environment, n).toEqual({ name: FLEET_ENVIRONMENT, action: "prepare" });
      expect(body(n).resource_group, n).toBe("fleet");
    }
  });

  it("docs/rolling-changes.md shows the two upgrade jobs exactly as generated", () => {
    const doc = readFileSync(new URL("docs/rolling-changes.md", ROOT), "utf8");
    const section = doc.slice(doc.indexOf("## In a pipeline"));
    const block = section.slice(section.indexOf("```yaml\n") + 8, section.indexOf("```\n", section.indexOf("```yaml")));
    const shown = parse(block) as Record<string, unknown>;
    const file = parse(generated) as Record<string, unknown>;
    expect(Object.keys(shown)).toEqual(["upgrade-pending", "upgrade"]);
    for (const n of Object.keys(shown)) expect(shown[n], n).toEqual(file[n]);
  });

  it("holds no secret: tokens and keys are only ever named as CI/CD variables", () => {
    expect(committed).not.toMatch(/glpat-|glrt-|PRIVATE KEY/);
    expect(committed).not.toMatch(/^\s+(GITLAB_TOKEN|PIFLEET_SSH_KEY|PIFLEET_NOTE_TOKEN):/m);
  });

  it("jobs that change the fleet share one resource group, are not interruptible and run on the protected socket pool", () => {
    for (const n of ["configure", "runners-apply", "upgrade-pending", "upgrade", "deploy", "fleet-observe"]) {
      expect(body(n).resource_group, n).toBe("fleet");
      expect(body(n).interruptible, n).toBe(false);
      expect(body(n).tags, n).toEqual(["deploy", "pifleet", "arm64"]);
    }
    expect(body("runners-apply").script).toEqual(["pifleet runners apply"]);
  });

  it("builds once and deploys what was built: deploy needs the manifest of every arch's build and never builds", () => {
    expect(body("build-image:arm64").tags).toEqual(["deploy", "pifleet", "arm64"]);
    expect(body("app-manifest").needs).toEqual(["build-image:arm64"]);
    expect(body("app-manifest").script).toEqual(["pifleet app manifest build-*.json --json > images.json"]);
    expect(body("deploy").needs).toEqual(["app-manifest", "upgrade-pending"]);
    expect(body("deploy").script).toEqual(["pifleet app deploy --images images.json"]);
  });

  it("checks what is published after the deploy: the load balancer's port, a counted view, and the Swarm's status", () => {
    // The VIP keepalived keeps on a healthy load balancer (app.loadBalancer.vip).
    expect(body("deploy").environment).toMatchObject({ name: FLEET_ENVIRONMENT, url: "http://192.168.1.250/" });
    expect(body("smoke-test").variables).toEqual({ APP_URL: "http://192.168.1.250" });
    const script = body("smoke-test").script?.join("\n") ?? "";
    expect(script).toContain('"$APP_URL/readyz"');
    expect(script).toContain('"$APP_URL/api/views/pipeline-smoke-test" | jq -e .views');
    expect(script).toContain('test "$second" -gt "$first"');
    expect(script).toContain("pifleet app status");
    expect(generated).not.toContain(":8080");
  });

  it("verify jobs run when code changed, so a fleet-only merge request skips them; pipeline-check and fleet-validate always run", () => {
    for (const n of ["lint", "typecheck", "unit-tests"]) expect(body(n).rules, n).toEqual([notScheduled, { changes: [...CODE_CHANGES] }]);
    for (const n of ["pipeline-check", "fleet-validate"]) expect(body(n).rules, n).toEqual([notScheduled, { when: "on_success" }]);
    for (const n of ["lint", "typecheck", "unit-tests", "pipeline-check"])
      expect(body(n).before_script, n).toEqual(["sh pipelines/image/checkout-deps.sh"]);
  });
});

describe("every pipeline kind is complete", () => {
  for (const kind of Object.keys(KINDS) as Kind[]) {
    it(`in a ${kind} pipeline, every job that runs has what it needs (GitLab would refuse the pipeline otherwise)`, () => {
      const running = jobNames.filter((n) => runsIn(kind, n));
      expect(running.length).toBeGreaterThan(0);
      for (const n of running)
        for (const need of body(n).needs ?? [])
          if (typeof need === "string" || !need.optional)
            expect(runsIn(kind, needName(need)), `${n} needs ${needName(need)} in a ${kind} pipeline`).toBe(true);
    });
  }
});

describe("what the verify jobs' changes rules and the image build cover", () => {
  const rootPackage = JSON.parse(readFileSync(new URL("package.json", ROOT), "utf8")) as { workspaces: string[] };

  it("lists the root package.json's workspaces", () => {
    expect([...WORKSPACES]).toEqual(rootPackage.workspaces);
  });

  it("the Dockerfile copies every workspace's package.json before npm ci, and the lock file", () => {
    const dockerfile = readFileSync(new URL("pipelines/image/Dockerfile", ROOT), "utf8");
    const beforeInstall = dockerfile.slice(0, dockerfile.indexOf("RUN npm ci"));
    expect(beforeInstall).toContain("COPY package.json package-lock.json ./");
    for (const ws of rootPackage.workspaces) expect(beforeInstall).toContain(`COPY ${ws}/package.json ${ws}/\n`);
    expect(dockerfile).toContain(`\nARG PIFLEET_NODE_IMAGE=${PUBLIC_IMAGES.PIFLEET_NODE_IMAGE}\nFROM \${PIFLEET_NODE_IMAGE}\n`);
  });

  it(".dockerignore leaves out the fleet files, docs and build output, so a fleet-only change reuses every layer", () => {
    const ignored = readFileSync(new URL(".dockerignore", ROOT), "utf8").split("\n");
    for (const entry of ["**/fleet.yaml", "**/known_hosts", "fleet/sim", "examples", "docs", "**/node_modules", "**/dist", ".git"])
      expect(ignored).toContain(entry);
  });
});

/** The example fleet with an amd64 Pi that runs the app (and, with `pool`, that pool). */
function withAmd64Node(pool = ""): Fleet {
  const text = readFileSync(new URL("examples/fleet.yaml", ROOT), "utf8")
    .replace("\n\npools:", "\n  - { name: x1, address: 192.168.1.21, arch: amd64, roles: [swarm-worker, runner, app] }\n\npools:")
    .replace("\n\napp:", `${pool}\n\napp:`);
  return parseFleet(text, "fleet.yaml");
}

describe("projectPipeline for other fleets", () => {
  it("has the same jobs for 100 Pis as for 4 (checks go through the load balancer, not per node), and lints clean", () => {
    const big = syntheticFleet(fleet, 100);
    const generated = generateProjectPipeline(big, "fleet.yaml");
    expect(generated.jobCount).toBe(jobNames.length);
  });

  it("builds natively per arch: an amd64 socket pool adds build-image:amd64, and the manifest takes both", () => {
    const amd64 = withAmd64Node(
      "\n  - { name: amd64-build, dockerSocket: true, tags: [deploy, pifleet, amd64], protected: true, nodes: [x1] }",
    );
    const mixed = jobsOf(generateProjectPipeline(amd64, "fleet.yaml").text);
    expect(mixed.get("build-image:amd64")?.tags).toEqual(["deploy", "pifleet", "amd64"]);
    expect(mixed.get("app-manifest")?.needs).toEqual(["build-image:arm64", "build-image:amd64"]);
  });

  it("generates for an amd64 fleet like the sim's: the amd64 pools, the registry on pi1, the app at the VIP", () => {
    const text = readFileSync(new URL("examples/fleet.yaml", ROOT), "utf8")
      .replaceAll("arm64", "amd64")
      .replaceAll("192.168.1.", "198.19.255.");
    const amd64 = parseFleet(text, "fleet/sim/fleet.yaml");
    const generated = generateProjectPipeline(amd64, "fleet/sim/fleet.yaml").text;
    const amd64Jobs = jobsOf(generated);
    expect(amd64Jobs.get("deploy")?.tags).toEqual(["deploy", "pifleet", "amd64"]);
    expect(amd64Jobs.get("lint")?.tags).toEqual(["amd64", "docker", "pi"]);
    expect([...amd64Jobs.keys()].filter((n) => n.startsWith("build-image"))).toEqual(["build-image:amd64"]);
    expect(generated).toContain("value: 198.19.255.11:5000");
    expect(generated).toContain("value: fleet/sim/fleet.yaml");
    expect(amd64Jobs.get("smoke-test")?.variables).toEqual({ APP_URL: "http://198.19.255.250" });
  });

  it("says what to add when the fleet has no docker-socket pool, or no unprotected pool for MR jobs", () => {
    const noSocket = { ...fleet, pools: fleet.pools.map((p) => ({ ...p, dockerSocket: false })) };
    expect(() => projectPipeline(noSocket, { fleetPath: "fleet.yaml" })).toThrow(InputError);
    expect(() => projectPipeline(noSocket, { fleetPath: "fleet.yaml" })).toThrow(/needs a docker-executor pool with dockerSocket: true/);
    const allProtected = { ...fleet, pools: fleet.pools.map((p) => ({ ...p, protected: true })) };
    expect(() => projectPipeline(allProtected, { fleetPath: "fleet.yaml" })).toThrow(
      /needs an unprotected docker-executor pool on arm64 nodes with arm64 in its tags \(merge-request jobs may not use protected runners\)/,
    );
  });

  it("refuses a fleet whose app runs on an arch no socket pool builds for", () => {
    const x86App = withAmd64Node();
    expect(() => projectPipeline(x86App, { fleetPath: "fleet.yaml" })).toThrow(
      "the app runs on amd64 nodes, but no docker-executor pool with dockerSocket: true serves amd64 (images are built natively, one job per arch)",
    );
  });
});
