import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sshShell } from "@pifleet/io";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GitClient } from "../gitlab/test-support/git-client.js";
import type { Target } from "../gitlab/test-support/target.js";
import { buildHelperImage, type SimStatus, simDown, simUp } from "../index.js";
import { sshRun } from "../test-support/ssh.js";

// The sim's shell executor end to end, driven as GitLab drives a runner: a 1-node sim (emulator and
// runner stand-in, which created the gitlab-runner user), a shell runner and a docker runner in
// config.toml on pi1, and a pushed pipeline whose jobs the emulator runs on pi1 — shell jobs as
// gitlab-runner over SSH, docker jobs with gitlab-ci-local in pi1's Docker engine — handing artifacts
// to each other both ways.
const log = (m: string) => process.stderr.write(`[shell-job itest] ${m}\n`);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

const SECRET = "itest-masked-Vq83xZ"; // masked project variable
const KEY = "-----BEGIN TEST KEY-----\nnot-a-real-key-4Wd9\n-----END TEST KEY-----\n"; // file variable
const DAEMON_JSON = JSON.stringify({ bip: "198.18.100.1/24", "default-address-pools": [{ base: "198.18.128.0/18", size: 24 }] });

const CI_YAML = `stages: [build, test]
variables:
  GREETING: "hello from $CI_PROJECT_NAME"
"make: [shell]":
  stage: build
  tags: [itest-shell]
  script:
    - echo "user=$(id -un) host=$(hostname) dir=$CI_PROJECT_DIR"
    - echo "greeting=$GREETING"
    - echo "key=$ITEST_KEY mode=$(stat -c '%a %U' "$ITEST_KEY") line=$(sed -n 2p "$ITEST_KEY")"
    - echo "secret=$ITEST_SECRET"
    - mkdir -p out && echo "made by $(id -un) on $(hostname)" > out/shell.txt
  after_script:
    - echo "after_script sees $CI_JOB_STATUS"
  artifacts: { paths: [out/] }
docker-make:
  stage: build
  tags: [itest-docker]
  script:
    - mkdir -p dout && echo "made in a container" > dout/docker.txt
  artifacts: { paths: [dout/] }
shell-take:
  stage: test
  tags: [itest-shell]
  needs: [docker-make]
  script: [cat dout/docker.txt]
docker-take:
  stage: test
  tags: [itest-docker]
  needs: ["make: [shell]"]
  script: [cat out/shell.txt]
shell-fail:
  stage: test
  tags: [itest-shell]
  needs: []
  script: [echo about to fail, "false", echo not-reached]
  after_script: ['echo "after_script sees $CI_JOB_STATUS"']
shell-slow:
  stage: test
  tags: [itest-shell]
  needs: []
  script: [echo sleeping, sleep 300 & sleep 301]
shell-timeout:
  stage: test
  tags: [itest-shell]
  needs: []
  timeout: 10s
  script: [echo waiting, sleep 300]
`;

interface Job {
  id: number;
  name: string;
  status: string;
  duration: number | null;
  failure_reason?: string;
}

let dir = "";
let sim: SimStatus;
let git: GitClient;

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

async function until<T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

const pi1 = () => sim.nodes[0] ?? { name: "pi1", address: "" };
const project = () => sim.gitlab?.projectId ?? 1;

/** A project runner with these tags, and its [[runners]] block for pi1's config.toml. */
async function runner(tag: string, executor: string, extra: string): Promise<string> {
  const r = await api<{ id: number; token: string }>("POST", "/user/runners", {
    runner_type: "project_type",
    project_id: project(),
    tag_list: [tag],
    run_untagged: false,
    description: `itest ${executor}`,
  });
  return `[[runners]]\n  name = "itest ${executor}"\n  url = "${sim.gitlab?.url}"\n  id = ${r.id}\n  token = "${r.token}"\n  executor = "${executor}"\n  limit = 3\n${extra}`;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "pf-shelljob-"));
  const t0 = Date.now();
  sim = await simUp({ dir: join(dir, "sim"), nodes: 1, progress: log });
  const t1 = Date.now();
  // The docker runner needs an engine on pi1 (Debian's docker.io; pi may use it, as the docker role allows).
  const [helper] = await Promise.all([
    buildHelperImage("amd64", log),
    sshRun(
      sim,
      pi1().address,
      [
        "set -e",
        "sudo install -d /etc/docker",
        `echo '${DAEMON_JSON}' | sudo tee /etc/docker/daemon.json >/dev/null`,
        "sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends docker.io >/dev/null",
        "sudo usermod -aG docker pi",
      ].join("\n"),
    ),
  ]);
  const t2 = Date.now();
  const config = [
    "concurrent = 4\ncheck_interval = 1\n",
    await runner("itest-shell", "shell", '  shell = "bash"\n'),
    await runner("itest-docker", "docker", `  [runners.docker]\n    image = "${helper}"\n    volumes = []\n`),
  ].join("\n");
  const shell = sshShell({ user: sim.sshUser, port: 22, privateKey: sim.sshKey, knownHosts: sim.knownHosts });
  try {
    // The runner tokens travel on stdin.
    await shell.script(pi1(), "sudo -n sh -c 'umask 077 && mkdir -p /etc/gitlab-runner && cat > /etc/gitlab-runner/config.toml'", {
      input: config,
    });
  } finally {
    await shell.close();
  }
  await api("POST", `/projects/${project()}/variables`, { key: "ITEST_SECRET", value: SECRET, masked: true });
  await api("POST", `/projects/${project()}/variables`, { key: "ITEST_KEY", value: KEY, variable_type: "file" });
  const target = { url: sim.gitlab?.url ?? "", token: sim.gitlab?.token ?? "" } as Target;
  git = new GitClient(target, "pifleet/infra");
  log(`sim up ${seconds(t1 - t0)}, docker.io on pi1 + helper image ${seconds(t2 - t1)}`);
});

afterAll(async () => {
  if (!dir) return;
  git?.cleanup();
  await simDown(join(dir, "sim")).catch((err) => log(`sim down failed: ${String(err)}`));
  await rm(dir, { recursive: true, force: true });
});

describe("shell-executor runners in the sim", () => {
  let jobs: Job[] = [];
  const traces = new Map<string, string>();
  const job = (name: string) => jobs.find((j) => j.name === name);

  it("runs a pushed pipeline's shell jobs on the node and its docker jobs in the node's engine; a cancel stops one", async () => {
    const { dir: work } = await git.clone();
    const t0 = Date.now();
    const sha = await git.commit(work, ".gitlab-ci.yml", CI_YAML, "shell executor itest");
    await git.must(work, ["push", "-q", "origin", "HEAD:main"]);
    const pipeline = await until("the pipeline", 60_000, async () => {
      const [p] = await api<Array<{ id: number }>>("GET", `/projects/${project()}/pipelines?sha=${sha}`);
      return p;
    });
    // Cancel the slow job once it runs (its script has started).
    const slow = await until("shell-slow running", 180_000, async () => {
      const list = await api<Job[]>("GET", `/projects/${project()}/pipelines/${pipeline.id}/jobs?per_page=100`);
      const j = list.find((x) => x.name === "shell-slow" && x.status === "running");
      if (!j) return undefined;
      const t = await api<string>("GET", `/projects/${project()}/jobs/${j.id}/trace`);
      return t.includes("sleeping") ? j : undefined;
    });
    const tc = Date.now();
    await api("POST", `/projects/${project()}/jobs/${slow.id}/cancel`);
    await until("the pipeline to finish", 300_000, async () => {
      const p = await api<{ status: string }>("GET", `/projects/${project()}/pipelines/${pipeline.id}`);
      return ["success", "failed", "canceled"].includes(p.status) ? p : undefined;
    });
    jobs = await api<Job[]>("GET", `/projects/${project()}/pipelines/${pipeline.id}/jobs?per_page=100`);
    for (const j of jobs) traces.set(j.name, await api<string>("GET", `/projects/${project()}/jobs/${j.id}/trace`));
    log(
      `pipeline ${seconds(Date.now() - t0)} (cancel asked at ${seconds(tc - t0)}); jobs: ${jobs.map((j) => `${j.name} ${j.status} ${j.duration?.toFixed(1) ?? "-"} s`).join("; ")}`,
    );
    expect(Object.fromEntries(jobs.map((j) => [j.name, j.status]))).toEqual({
      "make: [shell]": "success",
      "docker-make": "success",
      "shell-take": "success",
      "docker-take": "success",
      "shell-fail": "failed",
      "shell-slow": "canceled",
      "shell-timeout": "failed",
    });
  });

  it("runs a shell job as gitlab-runner on the node, in its builds dir, with the YAML variables", () => {
    const trace = traces.get("make: [shell]") ?? "";
    expect(trace.split("\n")[0]).toMatch(
      /^Running with the pifleet sim runner \(shell executor, as gitlab-runner on the node over SSH\) on pi1 /,
    );
    expect(trace).toMatch(/user=gitlab-runner host=pi1 dir=\/home\/gitlab-runner\/builds\/[A-Za-z0-9_-]{9}\/\d+\/pifleet\/infra\n/);
    expect(trace).toContain("greeting=hello from infra");
    expect(trace).toContain("after_script sees success");
  });

  it("hands a file variable over as a path to a file only gitlab-runner can read, and masks a masked value", () => {
    const trace = traces.get("make: [shell]") ?? "";
    expect(trace).toMatch(
      /key=\/home\/gitlab-runner\/builds\/\S+\/pifleet\/infra\.tmp\/ITEST_KEY mode=600 gitlab-runner line=not-a-real-key-4Wd9/,
    );
    expect(trace).toContain("secret=[MASKED]");
    for (const t of traces.values()) expect(t).not.toContain(SECRET);
  });

  it("passes artifacts from a docker job to a shell job and from a shell job to a docker job", () => {
    expect(traces.get("shell-take")).toContain("made in a container");
    expect(traces.get("docker-take")).toContain("made by gitlab-runner on pi1");
  });

  it("fails a failing script with script_failure, and still runs its after_script", () => {
    expect(job("shell-fail")?.failure_reason).toBe("script_failure");
    const trace = traces.get("shell-fail") ?? "";
    expect(trace).toContain("about to fail");
    expect(trace).not.toMatch(/^not-reached$/m);
    expect(trace).toContain("after_script sees failed");
  });

  it("fails a job past its timeout with job_execution_timeout", () => {
    expect(job("shell-timeout")?.failure_reason).toBe("job_execution_timeout");
  });

  it("leaves no process of gitlab-runner's and no file variable on the node after a cancel and a timeout", async () => {
    expect(await sshRun(sim, pi1().address, "ps -u gitlab-runner -o pid=,args= || true")).toBe("");
    expect(await sshRun(sim, pi1().address, "sudo find /home/gitlab-runner/builds -name '*.tmp'")).toBe("");
  });
});
