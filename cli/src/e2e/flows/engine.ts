import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { run } from "@pifleet/io";
import { buildHelperImage } from "@pifleet/sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PIPELINE_TEST_TIMEOUT_MS, type SharedSim } from "../shared-sim.js";
import { type Job, logger, nodeOf, type Pipeline, type Runner, seconds, until } from "../support.js";

const log = logger("e2e engine");
const SECRET = "deploy-secret-7Hq2xP"; // a protected, masked CI/CD variable
const FINISHED = ["success", "failed", "canceled", "skipped"];

const pipelineYaml = (image: string) => `stages: [build, test, deploy]
default:
  image: ${image}
build:
  stage: build
  tags: [amd64, docker]
  script:
    - echo "built by $CI_RUNNER_DESCRIPTION" > built.txt
  artifacts: { paths: [built.txt] }
check:
  stage: test
  tags: [amd64, docker]
  script:
    - cat built.txt
    - test ! -e /var/run/docker.sock && echo "no docker socket here"
deploy:
  stage: deploy
  tags: [deploy, pifleet]
  resource_group: fleet
  script:
    - cat built.txt
    - test -S /var/run/docker.sock && echo "docker socket mounted"
    - echo "secret=$DEPLOY_SECRET source=$CI_PIPELINE_SOURCE branch=$CI_COMMIT_BRANCH"
`;

/**
 * The pipeline engine on the bootstrapped fleet, with a pipeline of its own: a fresh repository's
 * first commit pushed to the still-empty project runs each job on a runner that serves its tags,
 * in that pool's docker settings, with artifacts across nodes and protected variables masked.
 * It runs before the pifleet project is pushed, so the project's history starts with it and every
 * later push is a commit on top (the runners and the protected variable are what it shares).
 */
export function engineFlow(s: SharedSim): void {
  describe("git push runs a pipeline on the nodes' runners", () => {
    let work = "";
    let helper = "";

    /** git with the token handed over by a credential helper from the environment (never argv, never the URL). */
    const git = (args: string[]) =>
      run("git", args, {
        cwd: work,
        env: {
          PATH: process.env.PATH,
          HOME: s.root,
          GIT_CONFIG_NOSYSTEM: "1",
          GIT_TERMINAL_PROMPT: "0",
          GIT_TOKEN: s.sim.gitlab?.token ?? "",
          GIT_CONFIG_COUNT: "3",
          GIT_CONFIG_KEY_0: "credential.helper",
          GIT_CONFIG_VALUE_0: `!f() { test "$1" = get && printf 'username=oauth2\\npassword=%s\\n' "$GIT_TOKEN"; }; f`,
          GIT_CONFIG_KEY_1: "user.name",
          GIT_CONFIG_VALUE_1: "pipeline itest",
          GIT_CONFIG_KEY_2: "user.email",
          GIT_CONFIG_VALUE_2: "itest@example.invalid",
        },
        describe: `git ${args[0]}`,
      });

    beforeAll(async () => {
      helper = await buildHelperImage("amd64", log);
      await s.api("POST", `${s.project}/variables`, { key: "DEPLOY_SECRET", value: SECRET, protected: true, masked: true });
      work = join(s.root, "engine-work");
      await mkdir(work);
      await run("git", ["init", "-q", "--initial-branch=main", work]);
      await git(["remote", "add", "origin", `${s.sim.gitlab?.url}/pifleet/infra.git`]);
    });

    afterAll(async () => {
      if (s.project) await s.api("DELETE", `${s.project}/variables/DEPLOY_SECRET`).catch(() => undefined);
    });

    it(
      "follows a pushed pipeline to success, each job on a runner that serves its tags, in that pool's docker settings",
      async () => {
        const t = Date.now();
        await writeFile(join(work, ".gitlab-ci.yml"), pipelineYaml(helper));
        await git(["add", "-A"]);
        await git(["commit", "-qm", "a pipeline of its own"]);
        await git(["push", "-q", "origin", "HEAD:main"]);
        const sha = (await git(["rev-parse", "HEAD"])).stdout.trim();
        const created = await until(`a pipeline for ${sha.slice(0, 8)}`, 60_000, async () => {
          const [p] = await s.api<Pipeline[]>("GET", `${s.project}/pipelines?sha=${sha}`);
          return p;
        });
        const pipeline = await until(`pipeline ${created.id} to finish`, 8 * 60_000, async () => {
          const now = await s.api<Pipeline>("GET", `${s.project}/pipelines/${created.id}`);
          return FINISHED.includes(now.status) ? now : undefined;
        });
        const jobs = await s.api<Job[]>("GET", `${s.project}/pipelines/${created.id}/jobs`);
        const described = jobs.map((j) => `${j.name} ${j.status} on ${nodeOf(s.sim, j)} (runner #${j.runner?.id ?? "-"})`);
        s.figures.push(`a pipeline of its own (3 jobs): ${seconds(Date.now() - t)}; ${described.join("; ")}`);
        expect(pipeline.status).toBe("success");

        const list = await s.api<Array<{ id: number }>>("GET", `${s.project}/runners?per_page=100`);
        const runners = await Promise.all(list.map((r) => s.api<Runner>("GET", `/runners/${r.id}`)));
        for (const job of jobs) {
          expect(job.status).toBe("success");
          const runner = runners.find((r) => r.id === job.runner?.id);
          expect(runner, `${job.name} ran on a runner of the project`).toBeDefined();
          for (const tag of job.tag_list) expect(runner?.tag_list).toContain(tag);
          expect(s.sim.nodes.map((n) => n.address)).toContain(job.runner_manager?.ip_address);
        }
        const byName = new Map(jobs.map((j) => [j.name, j]));
        const trace = (name: string) => s.api<string>("GET", `${s.project}/jobs/${byName.get(name)?.id}/trace`);
        const deploy = byName.get("deploy") as Job;
        expect(runners.find((r) => r.id === deploy.runner?.id)?.access_level).toBe("ref_protected");
        // The artifact travelled from build to the later jobs, whichever nodes they ran on.
        expect(await trace("check")).toContain(`built by ${byName.get("build")?.runner?.description ?? ""}`);
        expect(await trace("check")).toContain("no docker socket here");
        const deployTrace = await trace("deploy");
        expect(deployTrace).toContain("docker socket mounted");
        expect(deployTrace).toContain("secret=[MASKED] source=push branch=main");
        expect(deployTrace).not.toContain(SECRET);
      },
      PIPELINE_TEST_TIMEOUT_MS,
    );
  });
}
