import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { loadFleetFile } from "@pifleet/fleet";
import { SIM_PROJECT_PATH, simControlHeaders } from "@pifleet/sim";
import { describe, expect, it } from "vitest";
import { latestPipelineId, PIPELINE_TEST_TIMEOUT_MS, type SharedSim } from "../shared-sim.js";
import { type Job, logger, minutes, onNode, type Pipeline, pifleetJson, pifleetRaw, until } from "../support.js";

const log = logger("e2e mr-credentials");
const run = promisify(execFile);

/** The deploy credentials and the environment they are scoped to (docs/security.md, design D). */
const DEPLOY_CREDENTIALS = ["PIFLEET_SSH_KEY", "GITLAB_TOKEN"];
const FLEET_ENVIRONMENT = "production";

/** The emulator's record of what a job's runner received (keys only), from its control API. */
export interface JobPayload {
  job_id: number;
  name: string;
  status: string;
  payload: {
    variable_keys: string[];
    protected_variable_keys: string[];
    protected_ref: boolean;
    environment: string | null;
    runner: { id: number; description: string; protected: boolean };
  } | null;
}

export async function payloadsOf(s: SharedSim, pipelineId: number): Promise<JobPayload[]> {
  const res = await fetch(`${s.sim.gitlab?.url}/-/sim/pipelines/${pipelineId}/payloads`, { headers: simControlHeaders(s.sim.gitlab) });
  expect(res.status, `the emulator's payload record of pipeline #${pipelineId}`).toBe(200);
  return (await res.json()) as JobPayload[];
}

/** (a) of the issue: no job of a merge-request pipeline got a deploy credential or any protected variable, or a protected runner. */
export async function expectNoCredentials(s: SharedSim, pipelineId: number): Promise<void> {
  const ran = (await payloadsOf(s, pipelineId)).filter((j) => j.payload !== null);
  expect(ran.length, `jobs of MR pipeline #${pipelineId} that a runner took`).toBeGreaterThan(0);
  for (const { name, payload } of ran) {
    expect(payload?.protected_ref, name).toBe(false);
    expect(payload?.protected_variable_keys, name).toEqual([]);
    for (const key of DEPLOY_CREDENTIALS) expect(payload?.variable_keys, name).not.toContain(key);
    expect(payload?.runner.protected, `${name} ran on ${payload?.runner.description}`).toBe(false);
  }
  log(`MR pipeline #${pipelineId}: ${ran.length} jobs, none got a protected variable or a protected runner`);
}

/** In a default-branch pipeline, only the jobs naming the fleet's environment got the deploy credentials, all on protected runners. */
export async function expectCredentialsOnlyInEnvironment(s: SharedSim, pipelineId: number): Promise<void> {
  const ran = (await payloadsOf(s, pipelineId)).filter((j) => j.payload !== null);
  const holders = ran.filter((j) => DEPLOY_CREDENTIALS.some((k) => j.payload?.variable_keys.includes(k)));
  expect(holders.map((j) => j.name).sort()).toEqual(
    ran
      .filter((j) => j.payload?.environment === FLEET_ENVIRONMENT)
      .map((j) => j.name)
      .sort(),
  );
  expect(holders.map((j) => j.name)).toEqual(expect.arrayContaining(["configure", "runners-apply", "deploy", "fleet-observe"]));
  for (const j of holders) expect(j.payload?.runner.protected, `${j.name} ran on ${j.payload?.runner.description}`).toBe(true);
  for (const j of ran.filter((r) => !holders.includes(r))) expect(j.payload?.protected_variable_keys, j.name).toEqual([]);
  log(`default-branch pipeline #${pipelineId}: deploy credentials only in ${holders.map((j) => j.name).join(", ")}`);
}

/** What a job on a Pi could change, read from the nodes: each config.toml's digest and the Swarm's services. */
/** A new Developer of the project (the emulator's control API): the person an MR's author usually is. */
async function developerToken(s: SharedSim): Promise<string> {
  const res = await fetch(`${s.sim.gitlab?.url}/-/sim/tokens`, {
    method: "POST",
    headers: { ...simControlHeaders(s.sim.gitlab), "content-type": "application/json" },
    body: JSON.stringify({ scopes: ["api"], access_level: 30, name: "canary developer" }),
  });
  if (res.status !== 201) throw new Error(`minting a Developer's token: HTTP ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}

async function nodeFacts(s: SharedSim): Promise<Record<string, string>> {
  const facts: Record<string, string> = {};
  for (const n of s.sim.nodes) facts[n.name] = (await onNode(s.sim, n.name, "sudo sha256sum /etc/gitlab-runner/config.toml")).stdout.trim();
  facts.swarm = (await onNode(s.sim, "pi1", "docker service ls --format '{{.Name}} {{.Replicas}} {{.Image}}' | sort")).stdout.trim();
  return facts;
}

/** The job an attacker adds to their branch's .gitlab-ci.yml: ssh to a Pi with whatever it has, and read the variables with the note token. */
function canaryJob(user: string, address: string): string {
  const ssh = `ssh -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=10`;
  return `
credential-canary:
  stage: verify
  rules:
    - if: $CI_PIPELINE_SOURCE == "merge_request_event"
  script:
    - 'echo "canary: PIFLEET_SSH_KEY \${PIFLEET_SSH_KEY:+is set}\${PIFLEET_SSH_KEY:-is unset}, GITLAB_TOKEN \${GITLAB_TOKEN:+is set}\${GITLAB_TOKEN:-is unset}"'
    - 'key=$(mktemp); if [ -n "$PIFLEET_SSH_KEY" ]; then cat "$PIFLEET_SSH_KEY" > "$key"; fi; if ${ssh} -i "$key" ${user}@${address} true; then echo "canary: GOT IN"; exit 1; fi; echo "canary: ssh was refused"'
    - 'curl --silent --output /dev/null --write-out "canary: variables API answered %{http_code}\\n" --header "PRIVATE-TOKEN: $PIFLEET_NOTE_TOKEN" "$CI_API_V4_URL/projects/$CI_PROJECT_ID/variables"'
`;
}

/**
 * Merge-request pipelines hold no fleet credential (issue 12, docs/security.md design D), checked the way an
 * attacker would try: a Developer's branch whose .gitlab-ci.yml adds a job that tries SSH to a Pi with what it
 * has, and reads the CI/CD variables with the note token. Runs on the shared sim after the baseline.
 */
export function mrCredentialsFlow(s: SharedSim): void {
  describe("merge-request pipelines hold no fleet credential", () => {
    it(
      "a canary job in an MR's YAML cannot ssh to a Pi or read the variables; no MR job got a protected variable; nothing changed",
      async () => {
        const t0 = Date.now();
        const [main] = await s.api<Pipeline[]>("GET", `${s.project}/pipelines?ref=main&status=success&per_page=1`);
        expect(main, "a green default-branch pipeline (the baseline)").toBeDefined();
        await expectCredentialsOnlyInEnvironment(s, main?.id ?? 0);
        const before = await nodeFacts(s);

        // The branch as the generated pipeline has it, then the attacker's commit on top, pushed with git and
        // opened as an MR by a Developer of the project: the MR pipeline and its job tokens are theirs.
        const branch = "mr-canary";
        await pifleetJson(["sim", "push", "--dir", s.simDir, "--branch", branch, "--message", "canary base", "--no-mirror"], s.env);
        const developer = await developerToken(s);
        const clone = join(s.root, "canary-clone");
        const auth = `http.extraHeader=Authorization: Basic ${Buffer.from(`x:${developer}`).toString("base64")}`;
        const git = (...args: string[]) => run("git", ["-c", auth, ...args], { cwd: s.root });
        await git("clone", "--quiet", "--branch", branch, `${s.sim.gitlab?.url}/${SIM_PROJECT_PATH}.git`, clone);
        const { fleet } = await loadFleetFile(s.sim.fleetFile);
        const target = s.sim.nodes[0];
        await writeFile(
          join(clone, ".gitlab-ci.yml"),
          `${await readFile(join(clone, ".gitlab-ci.yml"), "utf8")}${canaryJob(fleet.ssh.user, target?.address ?? "")}`,
        );
        const inClone = (...args: string[]) =>
          run("git", ["-c", auth, "-c", "user.name=dev", "-c", "user.email=dev@example.com", ...args], { cwd: clone });
        await inClone("commit", "--quiet", "-am", "ci: a job of my own");
        await inClone("push", "--quiet", "origin", `HEAD:${branch}`);

        const last = await latestPipelineId(s);
        const opened = await fetch(`${s.sim.gitlab?.url}/api/v4${s.project}/merge_requests`, {
          method: "POST",
          headers: { "PRIVATE-TOKEN": developer, "content-type": "application/json" },
          body: JSON.stringify({ source_branch: branch, target_branch: "main", title: "A Developer's change to the pipeline" }),
        });
        expect(opened.status, await opened.clone().text()).toBe(201);
        const mr = (await opened.json()) as { iid: number; author: { username: string } };
        log(`!${mr.iid} opened by ${mr.author.username} (Developer)`);
        const pipeline = await until(`the MR pipeline of !${mr.iid}`, 120_000, async () => {
          const ref = encodeURIComponent(`refs/merge-requests/${mr.iid}/head`);
          return (await s.api<Pipeline[]>("GET", `${s.project}/pipelines?ref=${ref}`)).find((p) => p.id > last);
        });
        // pipeline-check fails on the edited YAML, as it should: the pipeline fails, the canary ran anyway.
        const followed = await pifleetRaw(["sim", "ci", String(pipeline.id), "--follow", "--json", "--dir", s.simDir], s.env);
        const jobs = await s.api<Job[]>("GET", `${s.project}/pipelines/${pipeline.id}/jobs?per_page=100`);
        log(`MR !${mr.iid} pipeline #${pipeline.id} (exit ${followed.code}): ${jobs.map((j) => `${j.name} ${j.status}`).join(", ")}`);

        const canary = jobs.find((j) => j.name === "credential-canary");
        const trace = await s.api<string>("GET", `${s.project}/jobs/${canary?.id}/trace`);
        log(
          `the canary's trace:\n${trace
            .split("\n")
            .filter((l) => l.includes("canary") || l.includes("Permission denied"))
            .join("\n")}`,
        );
        expect(trace).toContain("canary: PIFLEET_SSH_KEY is unset, GITLAB_TOKEN is unset");
        expect(trace).toMatch(/Permission denied \(publickey/); // sshd answered, and refused: no key that it accepts
        expect(trace).toContain("canary: ssh was refused");
        expect(trace).toContain("canary: variables API answered 403");
        expect(canary?.status).toBe("success");
        expect(jobs.find((j) => j.name === "plan-note")?.status).toBe("success");

        await expectNoCredentials(s, pipeline.id);
        expect(await nodeFacts(s)).toEqual(before);

        // Closed, so that the branch's next push (none planned) would not run it again.
        await s.api("PUT", `${s.project}/merge_requests/${mr.iid}`, { state_event: "close" });
        s.figures.push(`the credential canary's MR pipeline: #${pipeline.id}, ${minutes(Date.now() - t0)} in all`);
      },
      PIPELINE_TEST_TIMEOUT_MS,
    );
  });
}
