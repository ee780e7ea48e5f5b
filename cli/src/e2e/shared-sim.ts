import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SimStatus } from "@pifleet/sim";
import { expect } from "vitest";
import { type GitlabApi, gitlabApi, type Job, logger, minutes, nodeOf, type Pipeline, pifleetJson, pifleetRaw } from "./support.js";

/**
 * The one sim the end-to-end flows share (gitlab-flows.itest.ts): 4 Pi-like nodes and the GitLab
 * emulator, brought up once, bootstrapped once, and driven the way a person drives pifleet — the
 * built CLI with PIFLEET_SIM_DIR, PIFLEET_FLEET and GITLAB_TOKEN set, and GitLab's REST API.
 */
export interface SharedSim {
  /** A temporary folder of this run: the sim's dir and the flows' own files. */
  root: string;
  simDir: string;
  /** `sim status --json`, read again when the sim grows. */
  sim: SimStatus;
  env: NodeJS.ProcessEnv;
  /** GitLab's REST API (`/api/v4`) as the admin. */
  api: GitlabApi;
  /** `/projects/<id>`: the sim's one project. */
  project: string;
  /** Wall times and counts, printed at the end. */
  figures: string[];
  /** Jobs each node's runners ran, over every pipeline the flows followed. */
  jobsPerNode: Map<string, number>;
}

const log = logger("e2e");

/**
 * How long a test that runs pipelines may take (vitest's integration default is 10 min). A default-branch
 * pipeline took up to 15 min on this 2-core machine under load; a test that runs out of time would leave its
 * pipeline running under the next test's feet, so each such test gets room for two of them.
 */
export const PIPELINE_TEST_TIMEOUT_MS = 40 * 60_000;

/** An empty handle, filled by bringUp in beforeAll (the flows read it when their tests run). */
export const sharedSim = (): SharedSim =>
  ({ root: "", simDir: "", env: {}, project: "", figures: [], jobsPerNode: new Map() }) as unknown as SharedSim;

/** `pifleet sim up` with `nodes` nodes (again: plugs in the extra Pis), then reads the sim's status. */
export async function simUpShared(s: SharedSim, nodes: number): Promise<void> {
  if (!s.root) {
    s.root = await mkdtemp(join(tmpdir(), "pf-e2e-"));
    s.simDir = join(s.root, "sim");
    s.env = { ...process.env, PIFLEET_SIM_DIR: s.simDir };
  }
  const up = await pifleetRaw(["sim", "up", "--nodes", String(nodes), "--dir", s.simDir], s.env);
  if (up.code !== 0) throw new Error(`pifleet sim up exited ${up.code}\n${up.stderr.slice(-3000)}`);
  s.sim = await pifleetJson<SimStatus>(["sim", "status", "--dir", s.simDir], s.env);
  if (!s.sim.gitlab) throw new Error("the sim has no GitLab emulator");
  s.env = { ...s.env, PIFLEET_FLEET: s.sim.fleetFile, GITLAB_TOKEN: s.sim.gitlab.token };
  s.api = gitlabApi(s.sim);
  s.project = `/projects/${s.sim.gitlab.projectId}`;
}

export async function simDownShared(s: SharedSim): Promise<void> {
  log(s.figures.join("\n"));
  log(`jobs per node: ${[...s.jobsPerNode].map(([node, n]) => `${node} ${n}`).join(", ")}`);
  if (!s.root) return;
  const down = await pifleetRaw(["sim", "down", "--dir", s.simDir], s.env);
  if (down.code !== 0) log(`sim down exited ${down.code}: ${down.stderr.slice(-2000)}`);
  await rm(s.root, { recursive: true, force: true });
}

/**
 * Follows a pipeline with `pifleet sim ci --follow` (as a person watches it) to its end, asserts it
 * succeeded, and returns its jobs; the wall time and each job's node go into the figures.
 */
export async function follow(s: SharedSim, id: number, label: string): Promise<Job[]> {
  const t0 = Date.now();
  const res = await pifleetRaw(["sim", "ci", String(id), "--follow", "--json", "--dir", s.simDir], s.env);
  const wall = Date.now() - t0;
  const jobs = await s.api<Job[]>("GET", `${s.project}/pipelines/${id}/jobs?per_page=100`);
  const perNode = new Map<string, number>();
  for (const job of jobs.filter((j) => j.runner)) perNode.set(nodeOf(s.sim, job), (perNode.get(nodeOf(s.sim, job)) ?? 0) + 1);
  for (const [node, n] of perNode) s.jobsPerNode.set(node, (s.jobsPerNode.get(node) ?? 0) + n);
  const nodes = [...perNode].sort().map(([node, n]) => `${node} ${n}`);
  s.figures.push(`${label}: pipeline #${id}, ${jobs.length} jobs, followed for ${minutes(wall)}; per node: ${nodes.join(", ")}`);
  log(`${label}: #${id} exit ${res.code}; ${jobs.map((j) => `${j.name} ${j.status} on ${nodeOf(s.sim, j)}`).join(", ")}`);
  // A failed job's log is gone with the sim: CI keeps only what is printed, so its end is printed here.
  for (const job of jobs.filter((j) => j.status === "failed")) {
    const trace = await pifleetRaw(["sim", "ci", String(id), "--trace", job.name, "--dir", s.simDir], s.env);
    log(`${label}: the end of ${job.name}'s log:\n${trace.stdout.slice(-6000)}${trace.stderr.slice(-1000)}`);
  }
  expect(res.code, `${label} pipeline #${id} failed:\n${res.stdout.slice(-3000)}\n${res.stderr.slice(-3000)}`).toBe(0);
  return jobs;
}

/** The id of the newest pipeline of the project (0: none yet). */
export async function latestPipelineId(s: SharedSim): Promise<number> {
  const [p] = await s.api<Pipeline[]>("GET", `${s.project}/pipelines?per_page=1`);
  return p?.id ?? 0;
}
