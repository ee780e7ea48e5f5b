import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { closeSshMasters, configure } from "@pifleet/ansible-bridge";
import { type LoadedFleet, loadFleetFile } from "@pifleet/fleet";
import { run } from "@pifleet/io";
import { applyPlan, connectRunners, planFleet } from "@pifleet/runner-manager";
import { buildHelperImage, type SimStatus, simDown, simUp } from "@pifleet/sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// git push to the sim's GitLab runs the pipeline on the sim's Pis: a 2-node sim whose Docker engines and
// runner config come from pifleet's own roles and `runners apply`; the runner stand-ins ask the emulator
// for jobs, and the emulator runs each job with gitlab-ci-local on the node of the runner that took it.
const log = (m: string) => process.stderr.write(`[pipeline-run itest] ${m}\n`);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

const SECRET = "deploy-secret-7Hq2xP"; // a protected, masked CI/CD variable

let dir = "";
let sim: SimStatus;
let loaded: LoadedFleet;
let helper = "";
let work = "";

interface Runner {
  id: number;
  description: string;
  paused: boolean;
  tag_list: string[];
  access_level: string;
}
interface Job {
  id: number;
  name: string;
  stage: string;
  status: string;
  tag_list: string[];
  duration: number | null;
  runner: { id: number; description: string } | null;
  runner_manager: { ip_address: string } | null;
}
interface Pipeline {
  id: number;
  sha: string;
  status: string;
  duration: number | null;
}

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${sim.gitlab?.url}/api/v4${path}`, {
    method,
    headers: { "PRIVATE-TOKEN": sim.gitlab?.token ?? "", "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${text}`);
  return (res.headers.get("content-type") ?? "").includes("json") ? (JSON.parse(text) as T) : (text as T);
}

/** git with the token handed over by a credential helper from the environment (never argv, never the URL). */
function git(args: string[]) {
  return run("git", args, {
    cwd: work,
    env: {
      PATH: process.env.PATH,
      HOME: dir,
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_TERMINAL_PROMPT: "0",
      GIT_TOKEN: sim.gitlab?.token ?? "",
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
}

/** Commits .gitlab-ci.yml, pushes main, and returns the pipeline GitLab made for the commit. */
async function push(ciYaml: string, message: string): Promise<Pipeline> {
  await writeFile(join(work, ".gitlab-ci.yml"), ciYaml);
  await git(["add", "-A"]);
  await git(["commit", "-qm", message]);
  await git(["push", "-q", "origin", "HEAD:main"]);
  const sha = (await git(["rev-parse", "HEAD"])).stdout.trim();
  return until(`a pipeline for ${sha.slice(0, 8)}`, 60_000, async () => {
    const [p] = await api<Pipeline[]>("GET", `/projects/${sim.gitlab?.projectId}/pipelines?sha=${sha}`);
    return p;
  });
}

async function until<T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

const FINISHED = ["success", "failed", "canceled", "skipped"];

async function finished(pipeline: Pipeline, ms = 8 * 60_000): Promise<{ pipeline: Pipeline; jobs: Job[] }> {
  const p = await until(`pipeline ${pipeline.id} to finish`, ms, async () => {
    const now = await api<Pipeline>("GET", `/projects/${sim.gitlab?.projectId}/pipelines/${pipeline.id}`);
    return FINISHED.includes(now.status) ? now : undefined;
  });
  const jobs = await api<Job[]>("GET", `/projects/${sim.gitlab?.projectId}/pipelines/${pipeline.id}/jobs`);
  return { pipeline: p, jobs };
}

const trace = (job: Job) => api<string>("GET", `/projects/${sim.gitlab?.projectId}/jobs/${job.id}/trace`);
const nodeOf = (job: Job) => sim.nodes.find((n) => n.address === job.runner_manager?.ip_address)?.name ?? "?";

async function runnersApply(): Promise<void> {
  const ctx = connectRunners(loaded, { env: { [loaded.fleet.gitlab.tokenEnv]: sim.gitlab?.token ?? "" } });
  try {
    const { plan } = await planFleet(loaded.fleet, ctx.api, ctx.nodes);
    const report = await applyPlan(plan, ctx.api, ctx.nodes, { drain: { timeoutMs: 60_000, pollMs: 2_000 } });
    expect(report.failures).toEqual([]);
  } finally {
    await ctx.close();
  }
}

/** The project's runners with their details (the list entries carry no tags). */
async function projectRunners(): Promise<Runner[]> {
  const list = await api<Array<{ id: number }>>("GET", `/projects/${sim.gitlab?.projectId}/runners?per_page=100`);
  return Promise.all(list.map((r) => api<Runner>("GET", `/runners/${r.id}`)));
}

function describeJobs(jobs: Job[]): string {
  return jobs
    .map((j) => `${j.name} ${j.status} on ${nodeOf(j)} (runner #${j.runner?.id ?? "-"}, ${j.duration?.toFixed(1) ?? "-"} s)`)
    .join("; ");
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "pf-pipeline-run-"));
  const t0 = Date.now();
  sim = await simUp({ dir: join(dir, "sim"), nodes: 2, progress: log });
  loaded = await loadFleetFile(sim.fleetFile);
  const t1 = Date.now();
  // Docker and the runner's service directory come from pifleet's roles; the helper image builds meanwhile.
  const [configured, built] = await Promise.all([
    configure({ fleet: loaded.fleet, workDir: join(dir, "ansible"), tags: ["base", "docker", "gitlab_runner"] }),
    buildHelperImage("amd64", log),
  ]);
  expect(configured.failures).toEqual([]);
  helper = built;
  const t2 = Date.now();
  await runnersApply();
  // The stand-ins read the new config.toml and ask for jobs: every runner shows online.
  await until("every runner online", 60_000, async () => {
    const list = await api<Array<Runner & { status: string }>>("GET", `/projects/${sim.gitlab?.projectId}/runners?per_page=100`);
    return list.length > 0 && list.every((r) => r.status === "online") ? list : undefined;
  });
  const t3 = Date.now();
  await api("POST", `/projects/${sim.gitlab?.projectId}/variables`, { key: "DEPLOY_SECRET", value: SECRET, protected: true, masked: true });
  work = join(dir, "work");
  // The seeded project is empty: a fresh repository pushes its first commit to it.
  await run("git", ["init", "-q", "--initial-branch=main", work]);
  await git(["remote", "add", "origin", `${sim.gitlab?.url}/pifleet/infra.git`]);
  log(`sim up ${seconds(t1 - t0)}, configure + helper image ${seconds(t2 - t1)}, runners apply + online ${seconds(t3 - t2)}`);
}, 20 * 60_000);

afterAll(async () => {
  if (!dir) return;
  await closeSshMasters(join(dir, "ansible")).catch(() => undefined);
  await simDown(join(dir, "sim")).catch((err) => log(`sim down failed: ${String(err)}`));
  await rm(dir, { recursive: true, force: true });
});

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

describe("git push runs the pipeline on the sim's nodes", () => {
  it(
    "follows a pushed pipeline to success, each job on a runner that serves its tags, in that pool's docker settings",
    async () => {
      const t = Date.now();
      const created = await push(pipelineYaml(helper), "a pipeline");
      const { pipeline, jobs } = await finished(created);
      log(
        `pipeline ${pipeline.id}: ${pipeline.status} in ${seconds(Date.now() - t)} (GitLab duration ${pipeline.duration} s): ${describeJobs(jobs)}`,
      );
      expect(pipeline.status).toBe("success");
      const runners = await projectRunners();
      for (const job of jobs) {
        expect(job.status).toBe("success");
        const runner = runners.find((r) => r.id === job.runner?.id);
        expect(runner, `${job.name} ran on a runner of the project`).toBeDefined();
        for (const tag of job.tag_list) expect(runner?.tag_list).toContain(tag);
        expect(sim.nodes.map((n) => n.address)).toContain(job.runner_manager?.ip_address);
      }
      const byName = new Map(jobs.map((j) => [j.name, j]));
      const deploy = byName.get("deploy") as Job;
      expect(runners.find((r) => r.id === deploy.runner?.id)?.access_level).toBe("ref_protected");
      // The artifact travelled from build to the later jobs, whichever nodes they ran on.
      const buildRunner = byName.get("build")?.runner?.description ?? "";
      expect(await trace(byName.get("check") as Job)).toContain(`built by ${buildRunner}`);
      expect(await trace(byName.get("check") as Job)).toContain("no docker socket here");
      const deployTrace = await trace(deploy);
      expect(deployTrace).toContain("docker socket mounted");
      expect(deployTrace).toContain("secret=[MASKED] source=push branch=main");
      expect(deployTrace).not.toContain(SECRET);
    },
    10 * 60_000,
  );

  it(
    "a runner paused through the API while the pipeline runs takes no new job, and stays paused after runners apply",
    async () => {
      const yaml = `stages: [build, test]
default:
  image: ${helper}
first:
  stage: build
  tags: [amd64, docker]
  script: [sleep 8, echo first]
${["a", "b"].map((n) => `second-${n}:\n  stage: test\n  tags: [amd64, docker]\n  script: [echo second-${n}]\n`).join("")}`;
      const created = await push(yaml, "pause a runner meanwhile");
      const first = await until("the first job to run", 3 * 60_000, async () => {
        const jobs = await api<Job[]>("GET", `/projects/${sim.gitlab?.projectId}/pipelines/${created.id}/jobs`);
        return jobs.find((j) => j.name === "first" && j.status === "running");
      });
      // Pause the other node's docker-pool runner, as a person would in the UI.
      const docker = (await projectRunners()).filter((r) => r.tag_list.includes("docker"));
      const paused = docker.find((r) => r.id !== first.runner?.id);
      expect(paused).toBeDefined();
      await api("PUT", `/runners/${paused?.id}`, { paused: true });
      const { pipeline, jobs } = await finished(created);
      log(`pipeline ${pipeline.id} with runner #${paused?.id} paused: ${pipeline.status}: ${describeJobs(jobs)}`);
      expect(pipeline.status).toBe("success");
      for (const job of jobs.filter((j) => j.name.startsWith("second-"))) expect(job.runner?.id).not.toBe(paused?.id);
      await runnersApply();
      expect((await api<Runner>("GET", `/runners/${paused?.id}`)).paused).toBe(true);
    },
    10 * 60_000,
  );
});
