import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { closeSshMasters, configure } from "@pifleet/ansible-bridge";
import { type Fleet, loadFleetFile } from "@pifleet/fleet";
import { run, sshShell } from "@pifleet/io";
import {
  buildHelperImage,
  ensureHelperImage,
  type JobVariable,
  type PipelineCheckout,
  preparePipelineCheckout,
  type RunJobResult,
  type RunJobSpec,
  runJob,
  type SimStatus,
  simDown,
  simUp,
  sweepFileVariableLitter,
} from "@pifleet/sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { logger, seconds } from "./support.js";

// The sim runner's executor end to end: a 2-node sim whose Docker engines pifleet's own docker role
// installed, the helper image loaded by ensureHelperImage, and jobs of a throw-away project run by
// gitlab-ci-local over `DOCKER_HOST=ssh://` with the pinned host keys.
const log = logger("run-job itest");

const TOKEN = "glpat-runjob-itest-7Qx9"; // masked
const JOB_TOKEN = "job-token-itest-5Kd2"; // masked
const DEPLOY_KEY = "-----BEGIN TEST KEY-----\nnot-a-real-key-3Zp8\n-----END TEST KEY-----\n"; // a file variable

let dir = "";
let sim: SimStatus;
let fleet: Fleet;
let helper = "";
let checkout: PipelineCheckout;

const ciYaml = (image: string) => `stages: [build, test]
default:
  image: ${image}
produce:
  stage: build
  cache: { key: shared, paths: [cache-dir/] }
  script:
    - mkdir -p out cache-dir
    - echo "made on $(cat /node-hostname)" > out/artifact.txt
    - echo cached > cache-dir/c.txt
  artifacts: { paths: [out/] }
"lint: [fast]":
  stage: build
  script:
    - echo "lint ran on $(cat /node-hostname)"
consume:
  stage: test
  needs: [produce]
  script:
    - cat out/artifact.txt
    - echo "key file $DEPLOY_KEY holds $(sed -n 2p "$DEPLOY_KEY")"
    - echo "token $API_TOKEN job token $CI_JOB_TOKEN"
    - echo "project=$CI_PROJECT_ID source=$CI_PIPELINE_SOURCE mr=$CI_MERGE_REQUEST_IID server=$CI_SERVER_URL branch=[\${CI_COMMIT_BRANCH-unset}] dir=$CI_PROJECT_DIR"
    - echo "consume ran on $(cat /node-hostname)"
broken:
  stage: test
  needs: []
  script: [echo about to fail, "false"]
tolerated:
  stage: test
  needs: []
  allow_failure: true
  script: ["false"]
slow:
  stage: test
  needs: []
  script: [echo sleeping, sleep 300]
`;

/** GitLab's variables for a merge-request pipeline, as the scheduler would hand them over. */
const variables: JobVariable[] = [
  { key: "CI_PROJECT_ID", value: "42", file: false, masked: false },
  { key: "CI_SERVER_URL", value: "http://198.19.255.1:8080", file: false, masked: false },
  { key: "CI_PIPELINE_SOURCE", value: "merge_request_event", file: false, masked: false },
  { key: "CI_MERGE_REQUEST_IID", value: "3", file: false, masked: false },
  { key: "CI_JOB_TOKEN", value: JOB_TOKEN, file: false, masked: true },
  { key: "GITLAB_CI", value: "true", file: false, masked: false },
  // The runner decides this one: a scheduler's value is dropped.
  { key: "CI_PROJECT_DIR", value: "/not/here", file: false, masked: false },
  { key: "API_TOKEN", value: TOKEN, file: false, masked: true },
  { key: "DEPLOY_KEY", value: DEPLOY_KEY, file: true, masked: false },
];

async function commitProject(image: string): Promise<{ bare: string; sha: string }> {
  const bare = join(dir, "repositories", "pifleet", "infra.git");
  const work = join(dir, "work");
  await run("git", ["init", "-q", "--bare", "--initial-branch=main", bare]);
  await run("git", ["init", "-q", "--initial-branch=main", work]);
  await writeFile(join(work, ".gitlab-ci.yml"), ciYaml(image));
  await run("git", ["-C", work, "add", "-A"]);
  await run("git", ["-C", work, "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-qm", "ci"]);
  await run("git", ["-C", work, "push", "-q", bare, "main"]);
  return { bare, sha: (await run("git", ["-C", work, "rev-parse", "HEAD"])).stdout.trim() };
}

function node(name: string) {
  const n = sim.nodes.find((x) => x.name === name);
  if (!n) throw new Error(`no node ${name}`);
  return { name: n.name, address: n.address };
}

interface Ran extends RunJobResult {
  trace: string;
}

async function job(name: string, on: string, extra: Partial<RunJobSpec> = {}): Promise<Ran> {
  let trace = "";
  const result = await runJob({
    checkoutDir: checkout.dir,
    jobName: name,
    evaluateChanges: checkout.evaluateChanges,
    node: node(on),
    ssh: { user: sim.sshUser, privateKey: sim.sshKey, knownHosts: sim.knownHosts },
    executor: "docker",
    docker: { volumes: ["/etc/hostname:/node-hostname:ro"] },
    helperImage: helper,
    variables,
    stateHome: join(dir, "runner-state"),
    onOutput: (t) => {
      trace += t;
    },
    timeoutMs: 180_000,
    ...extra,
  });
  log(
    `${name} on ${on}: ${result.status}${result.failureReason ? ` (${result.failureReason})` : ""}, exit ${result.exitCode}, ${seconds(result.durationMs)}`,
  );
  return { ...result, trace };
}

/** Containers and volumes gitlab-ci-local left in a node's engine. */
async function leftovers(name: string): Promise<string> {
  const shell = sshShell(fleet.ssh);
  try {
    const containers = await shell.run(node(name), ["docker", "ps", "-aq"]);
    const volumes = await shell.run(node(name), ["docker", "volume", "ls", "-q"]);
    return `${containers.stdout}${volumes.stdout}`.trim();
  } finally {
    await shell.close();
  }
}

/** Every process's argv on this machine that holds one of the values (sampled while jobs run). */
function argvWatch(values: string[]) {
  const seen = new Map<string, string>();
  let on = true;
  const loop = (async () => {
    while (on) {
      for (const pid of await readdir("/proc").catch(() => [] as string[])) {
        if (!/^\d+$/.test(pid)) continue;
        const argv = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
        if (values.some((v) => argv.includes(v))) seen.set(pid, argv.split("\0").slice(0, 2).join(" "));
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return {
    stop: async () => {
      on = false;
      await loop;
      return [...seen.values()];
    },
  };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "pf-runjob-"));
  const t0 = Date.now();
  sim = await simUp({ dir: join(dir, "sim"), nodes: 2, gitlab: false, progress: log });
  fleet = (await loadFleetFile(sim.fleetFile)).fleet;
  const t1 = Date.now();
  // The nodes get their Docker engine from pifleet's own roles, as on a Pi; the helper image builds meanwhile.
  const [configured, built] = await Promise.all([
    configure({ fleet, workDir: join(dir, "ansible"), tags: ["base", "docker"] }),
    buildHelperImage("amd64", log),
  ]);
  expect(configured.failures).toEqual([]);
  const t2 = Date.now();
  const loaded = await Promise.all(sim.nodes.map((n) => ensureHelperImage(n, fleet.ssh, { progress: log })));
  expect(loaded).toEqual([built, built]);
  helper = built;
  const t3 = Date.now();
  const { bare, sha } = await commitProject(helper);
  checkout = await preparePipelineCheckout({ repoDir: bare, sha, dir: join(dir, "pipelines", "1"), defaultBranch: "main" });
  log(
    `sim up ${seconds(t1 - t0)}, configure (base, docker) + helper image ${seconds(t2 - t1)}, helper image onto 2 nodes ${seconds(t3 - t2)}`,
  );
});

afterAll(async () => {
  if (!dir) return;
  await closeSshMasters(join(dir, "ansible")).catch(() => undefined);
  await simDown(join(dir, "sim")).catch((err) => log(`sim down failed: ${String(err)}`));
  await rm(dir, { recursive: true, force: true });
});

describe("runJob: one CI job on a sim node with gitlab-ci-local", () => {
  it("runs two jobs of one pipeline side by side in the same checkout, each on its own node", async () => {
    const t = Date.now();
    const [produce, lint] = await Promise.all([job("produce", "pi1"), job("lint: [fast]", "pi2")]);
    log(`both side by side: ${seconds(Date.now() - t)}`);
    expect(produce.status).toBe("success");
    expect(lint.status).toBe("success");
    expect(lint.trace).toContain("lint ran on pi2");
    expect(produce.trace).toMatch(/^Running with gitlab-ci-local on pi1 \(198\.19\.\d+\.\d+\), docker executor\n/);
    // The artifact is in the pipeline's state dir; the cache went through the link into the project's cache dir.
    expect(await readFile(join(checkout.dir, ".gitlab-ci-local", "artifacts", "produce", "out", "artifact.txt"), "utf8")).toBe(
      "made on pi1\n",
    );
    expect(await readFile(join(checkout.cacheDir, "shared", "cache-dir", "c.txt"), "utf8")).toBe("cached\n");
  });

  it("hands a needed job's artifacts to a job on another node, with GitLab's variables, file variables as paths, masked values masked", async () => {
    const watch = argvWatch([TOKEN, JOB_TOKEN, "not-a-real-key-3Zp8"]);
    const consume = await job("consume", "pi2");
    const holders = await watch.stop();
    expect(consume.status).toBe("success");
    expect(consume.trace).toContain("made on pi1");
    expect(consume.trace).toContain("consume ran on pi2");
    expect(consume.trace).toMatch(/key file \/tmp\/gitlab-ci-local-file-variables-\S+\/DEPLOY_KEY holds not-a-real-key-3Zp8/);
    expect(consume.trace).toContain("token [MASKED] job token [MASKED]");
    expect(consume.trace).not.toContain(TOKEN);
    expect(consume.trace).not.toContain(JOB_TOKEN);
    // Ours win over gitlab-ci-local's; no CI_COMMIT_BRANCH in an MR pipeline; the runner's own project dir.
    expect(consume.trace).toContain(
      "project=42 source=merge_request_event mr=3 server=http://198.19.255.1:8080 branch=[unset] dir=/builds/pifleet/infra",
    );
    // No long-lived process ever had a value in its argv. gitlab-ci-local 4.73 itself passes variables
    // to `docker create` as -e KEY=VALUE (a call of about a second); the key file's content never.
    log(`processes seen with a value in argv: ${holders.length ? holders.join(" | ") : "none"}`);
    for (const argv of holders) expect(argv).toMatch(/^(\S*\/)?(docker|bash) (create|-c)/);
    expect(holders.join(" ")).not.toContain("not-a-real-key-3Zp8");
  });

  it("reports a failed script, and a failed allow_failure job as failed although gitlab-ci-local exits 0", async () => {
    const [broken, tolerated] = await Promise.all([job("broken", "pi1"), job("tolerated", "pi2")]);
    expect(broken).toMatchObject({ status: "failed", failureReason: "script_failure", exitCode: 1 });
    expect(broken.trace).toContain("about to fail");
    expect(tolerated).toMatchObject({ status: "failed", failureReason: "script_failure", exitCode: 0 });
  });

  it("stops a canceled job and a timed-out one, and leaves no container or volume on the node", async () => {
    const cancel = new AbortController();
    let trace = "";
    const canceled = job("slow", "pi1", {
      signal: cancel.signal,
      onOutput: (t) => {
        trace += t;
        if (trace.includes("sleeping")) cancel.abort();
      },
    });
    const timedOut = job("slow", "pi2", { timeoutMs: 20_000 });
    const [c, t] = await Promise.all([canceled, timedOut]);
    expect(c.status).toBe("canceled");
    expect(t).toMatchObject({ status: "failed", failureReason: "job_execution_timeout" });
    expect(c.durationMs).toBeLessThan(60_000);
    expect(t.durationMs).toBeLessThan(20_000 + 60_000);
    expect(await leftovers("pi1")).toBe("");
    expect(await leftovers("pi2")).toBe("");
  });

  it("keeps the file variables gitlab-ci-local writes on this machine for this user only, and sweeps them", async () => {
    const litter = (await readdir("/tmp")).filter((n) => n.startsWith("gitlab-ci-local-file-variables-"));
    for (const name of litter) expect(((await stat(join("/tmp", name))).mode & 0o077).toString(8)).toBe("0");
    await sweepFileVariableLitter(0);
    const left = (await readdir("/tmp")).filter((n) => n.startsWith("gitlab-ci-local-file-variables-undefined-"));
    expect(left).toEqual([]);
  });
});
