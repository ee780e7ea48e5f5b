import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { loadFleetFile } from "@pifleet/fleet";
import { describe, expect, it } from "vitest";
import { parseDocument } from "yaml";
import { follow, latestPipelineId, PIPELINE_TEST_TIMEOUT_MS, type SharedSim, simUpShared } from "../shared-sim.js";
import { type Job, logger, type Note, nodeOf, onNode, type Pipeline, pifleetJson, type Runner, until } from "../support.js";
import { expectNoCredentials } from "./mr-credentials.js";

const log = logger("e2e mr-scale");
const MARKER = "<!-- pifleet:plan -->";

/**
 * Merge-request review, shown with scaling out and in (issue 11), run the way a person runs it: the
 * sim plugs in a fifth Pi, branches are pushed with `sim push`, merge requests are opened and merged
 * through GitLab's REST API, and every pipeline runs on the sim's Pis, followed with `sim ci`.
 * It starts from the deployed baseline (baseline.ts) and leaves the fleet as it found it: four Pis,
 * every runner unpaused.
 */
export function mrScaleFlow(s: SharedSim): void {
  describe("merge-request review, shown with scaling out and in", () => {
    let addIid = 0;
    let before: Record<string, string> = {};

    /** What the fleet looks like from the nodes: runner config, Docker and Swarm per node; nodes and services on the manager. */
    async function fleetFacts(): Promise<Record<string, string>> {
      const facts: Record<string, string> = {};
      for (const n of s.sim.nodes) {
        const r = await onNode(
          s.sim,
          n.name,
          "sudo sha256sum /etc/gitlab-runner/config.toml 2>/dev/null || echo no-config; command -v docker || echo no-docker; docker info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null || true",
        );
        facts[n.name] = r.stdout.trim();
      }
      const swarm = await onNode(
        s.sim,
        "pi1",
        "docker node ls --format '{{.Hostname}} {{.Status}} {{.Availability}}' | sort; docker service ls --format '{{.Name}} {{.Replicas}} {{.Image}}' | sort",
      );
      facts.swarm = swarm.stdout.trim();
      return facts;
    }

    const push = (branch: string, message: string, extra: string[] = []) =>
      pifleetJson<{ pipeline: Pipeline | null }>(
        ["sim", "push", "--dir", s.simDir, "--branch", branch, "--message", message, ...extra],
        s.env,
      );

    const mrPipeline = (iid: number, after: number) =>
      until(`an MR pipeline for !${iid} after #${after}`, 120_000, async () => {
        const ref = encodeURIComponent(`refs/merge-requests/${iid}/head`);
        return (await s.api<Pipeline[]>("GET", `${s.project}/pipelines?ref=${ref}`)).find((p) => p.id > after);
      });

    const planNotes = async (iid: number) =>
      (await s.api<Note[]>("GET", `${s.project}/merge_requests/${iid}/notes?per_page=100`)).filter((n) => n.body.includes(MARKER));

    const allRunners = () => s.api<Runner[]>("GET", `${s.project}/runners?per_page=100`);
    const runnersOf = async (node: string) => (await allRunners()).filter((r) => r.description.includes(`/${node}/`));
    const setPaused = (runners: Runner[], paused: boolean) => Promise.all(runners.map((r) => s.api("PUT", `/runners/${r.id}`, { paused })));

    async function openMr(branch: string, title: string): Promise<{ iid: number; pipeline: Pipeline }> {
      const last = await latestPipelineId(s);
      const mr = await s.api<{ iid: number }>("POST", `${s.project}/merge_requests`, {
        source_branch: branch,
        target_branch: "main",
        title,
      });
      return { iid: mr.iid, pipeline: await mrPipeline(mr.iid, last) };
    }

    /** Merges through the API and returns the default-branch pipeline the merge started. */
    async function merge(iid: number): Promise<Pipeline> {
      const last = await latestPipelineId(s);
      const merged = await s.api<{ merge_commit_sha: string }>("PUT", `${s.project}/merge_requests/${iid}/merge`);
      return until(`the default-branch pipeline of !${iid}'s merge`, 120_000, async () =>
        (await s.api<Pipeline[]>("GET", `${s.project}/pipelines?ref=main&sha=${merged.merge_commit_sha}`)).find((p) => p.id > last),
      );
    }

    const lbUrl = async () => {
      const { topology } = await loadFleetFile(s.sim.fleetFile);
      return { url: topology.loadBalancer?.url, appNodes: topology.appNodes };
    };

    it(
      "1-3. a fifth Pi is plugged in; the MR that adds it, with no fleet credential, posts ONE note: pi5's full converge, +1 runner, +1 replica",
      async () => {
        await simUpShared(s, 5);
        expect(s.sim.nodes.map((n) => n.name)).toEqual(["pi1", "pi2", "pi3", "pi4", "pi5"]);
        before = await fleetFacts();
        expect(before.pi5).toContain("no-config");
        expect(before.pi5).toContain("no-docker");

        const pushed = await push("add-pi5", "fleet: plug in pi5");
        expect(pushed.pipeline).toBeNull(); // a branch without an MR runs nothing (workflow rules)
        const mr = await openMr("add-pi5", "Add pi5 to the fleet");
        addIid = mr.iid;
        expect(mr.pipeline.source).toBe("merge_request_event");
        const jobs = await follow(s, mr.pipeline.id, "MR add-pi5");
        // An MR pipeline changes nothing: none of the jobs that change the Pis or push an image.
        const names = jobs.map((j) => j.name);
        for (const changing of ["pifleet-image", "configure", "runners-apply", "build-image:amd64", "app-manifest", "deploy", "smoke-test"])
          expect(names).not.toContain(changing);
        expect(names).toEqual(expect.arrayContaining(["configure-plan", "runners-plan", "app-plan", "plan-note"]));

        // No job of the MR pipeline got the fleet key, the runner token or any protected variable (docs/security.md, design D).
        await expectNoCredentials(s, mr.pipeline.id);

        const notes = await planNotes(addIid);
        expect(notes).toHaveLength(1);
        const body = notes[0]?.body ?? "";
        log(`the plan note (${body.length} characters):\n${body}`);
        // Planned from the default branch's last observation, which the note names.
        const [observer] = await s.api<Pipeline[]>("GET", `${s.project}/pipelines?ref=main&status=success&per_page=1`);
        expect(body).toMatch(new RegExp(`Fleet state as observed by \\[pipeline #\\d+\\]\\([^)]*/-/pipelines/${observer?.id}\\) at `));
        // The configure plan, from inventory variables (no Pi contacted): pi5 is new, and every other host lists it.
        expect(body).toMatch(/\*\*pi5\*\*: new host, full converge/);
        expect(body).toMatch(/\| `base_hosts_entries` \|[^\n]*"name":"pi5","address":"198\.19\.\d+\.\d+"/);
        expect(body).toMatch(/\| `swarm_members` \|[^\n]*"pi5"/);
        // The runner plan: one runner to create, pi5's in the container pool (the deploy pool names its nodes).
        expect(body).toMatch(/### Runner plan/);
        expect(body).toMatch(/Plan: 1 to create, 0 to update/);
        expect(body).toMatch(/\| `\+` \| create \| `[^`]*pi5\/amd64-docker[^`]*` \|/);
        // The app rollout: one replica more (the app is a global service: a task on each app node).
        expect(body).toMatch(/### App rollout/);
        expect(body).toMatch(/nodes: pi1, pi2, pi3, pi4 → pi1, pi2, pi3, pi4, pi5/);
        // Only the app changes: the plan names the images as the deploy will (the manifest lists), so no image moves
        // and the load balancer is left alone (Redis is no service of the stack: the redis role runs it).
        expect(body).toMatch(/Plan: 0 to create, 1 to update, 0 to remove, 1 unchanged/);
        expect(body).not.toMatch(/image: /);
        // 4. Read from the nodes: nothing changed on any node.
        expect(await fleetFacts()).toEqual(before);
      },
      PIPELINE_TEST_TIMEOUT_MS,
    );

    it(
      "3. pushing again to the branch keeps that ONE note up to date",
      async () => {
        const [first] = await planNotes(addIid);
        const last = await latestPipelineId(s);
        await push("add-pi5", "fleet: pi5, again");
        const again = await mrPipeline(addIid, last);
        const jobs = await follow(s, again.id, "MR add-pi5 (second push)");
        const notes = await planNotes(addIid);
        expect(notes.map((n) => n.id)).toEqual([first?.id]);
        // The second pipeline's plan-note job found that note and edited it in place: the note names the commit it
        // plans, so each push shows in it.
        const body = notes[0]?.body ?? "";
        expect(body).not.toBe(first?.body);
        expect(body).toMatch(
          new RegExp(`_Plan of ${again.sha.slice(0, 8)}, \\[pipeline #\\d+\\]\\(http[^)]*/-/pipelines/${again.id}\\)\\._`),
        );
        const planNote = jobs.find((j) => j.name === "plan-note");
        const trace = await s.api<string>("GET", `${s.project}/jobs/${planNote?.id}/trace`);
        expect(trace).toContain(`note ${first?.id} on !${addIid}: updated`);
        expect(notes[0]?.updated_at).not.toBe(first?.updated_at);
        s.figures.push("the plan note after the second push: updated in place");
        expect(await fleetFacts()).toEqual(before);
      },
      PIPELINE_TEST_TIMEOUT_MS,
    );

    it(
      "5. merging configures pi5, joins it to the Swarm, registers its runner and serves views from it; a runner paused meanwhile stays paused",
      async () => {
        const pipeline = await merge(addIid);
        // As a person would pause it in the UI while the pipeline runs: pi4's container runner.
        const [pi4] = (await runnersOf("pi4")).filter((r) => r.description.includes("/amd64-docker"));
        expect(pi4).toBeDefined();
        await s.api("PUT", `/runners/${pi4?.id}`, { paused: true });
        const pausedAt = new Date().toISOString();
        try {
          const jobs = await follow(s, pipeline.id, "merge add-pi5");
          expect(jobs.map((j) => j.name)).toContain("runners-apply");
          // It took no new job, and runners-apply left it paused.
          const late = jobs.filter((j) => j.started_at !== null && j.started_at > pausedAt);
          log(`jobs started after pi4's container runner was paused: ${late.map((j) => `${j.name} on ${nodeOf(s.sim, j)}`).join(", ")}`);
          for (const job of late) expect(job.runner?.id, `${job.name} started after the pause`).not.toBe(pi4?.id);
          expect((await s.api<Runner>("GET", `/runners/${pi4?.id}`)).paused).toBe(true);
        } finally {
          await s.api("PUT", `/runners/${pi4?.id}`, { paused: false });
        }

        const pi5 = await onNode(s.sim, "pi5", "systemctl is-active docker; docker info --format '{{.Swarm.LocalNodeState}}'");
        expect(pi5.stdout.split("\n")).toEqual(["active", "active", ""]);
        const nodes = (await onNode(s.sim, "pi1", "docker node ls --format '{{.Hostname}} {{.Status}} {{.Availability}}'")).stdout;
        expect(nodes).toMatch(/^pi5 Ready Active$/m);
        const runners = await until("pi5's runner online", 90_000, async () => {
          const list = await runnersOf("pi5");
          return list.length > 0 && list.every((r) => r.status === "online") ? list : undefined;
        });
        expect(runners.map((r) => r.description.split(" ")[1]?.split("/").slice(1).join("/"))).toEqual(["pi5/amd64-docker"]);

        const { url, appNodes } = await lbUrl();
        expect(appNodes.map((n) => n.name)).toContain("pi5");
        const served = await until("a view served by pi5's replica through the load balancer", 120_000, async () => {
          for (let i = 0; i < 20; i++) {
            const res = await fetch(`${url}/api/views/mr-scale`);
            const text = await res.text();
            if (res.ok && text.includes('"node":"pi5"')) return text;
          }
          return undefined;
        });
        log(`served through the load balancer: ${served}`);
      },
      PIPELINE_TEST_TIMEOUT_MS,
    );

    it(
      "5-6. the MR that removes pi5 runs on pi5's runner while the others are paused; merging it drains pi5: no runner, no Swarm node, no app task",
      async () => {
        // The scale-in branch: the fleet file without pi5, as a person would edit it.
        const doc = parseDocument(await readFile(s.sim.fleetFile, "utf8"));
        const fleetNodes = doc.get("nodes") as { items: { get(k: string): unknown }[] };
        fleetNodes.items = fleetNodes.items.filter((n) => n.get("name") !== "pi5");
        const smaller = join(s.root, "fleet-without-pi5.yaml");
        await writeFile(smaller, doc.toString());

        // As a person pausing runners in the UI: only pi5's runner may take the MR's jobs, so they show it takes jobs.
        const others = (await allRunners()).filter((r) => !r.description.includes("/pi5/") && !r.paused);
        await setPaused(others, true);
        let jobs: Job[] = [];
        let iid = 0;
        try {
          await push("remove-pi5", "fleet: take pi5 out", ["--fleet-file", smaller]);
          const mr = await openMr("remove-pi5", "Remove pi5 from the fleet");
          iid = mr.iid;
          jobs = await follow(s, mr.pipeline.id, "MR remove-pi5 (only pi5's runner unpaused)");
        } finally {
          await setPaused(others, false);
        }
        const ran = jobs.filter((j) => j.status === "success");
        expect(ran.length).toBeGreaterThan(0);
        expect(ran.map((j) => `${j.name} on ${nodeOf(s.sim, j)}`)).toEqual(ran.map((j) => `${j.name} on pi5`));
        const [note] = await planNotes(iid);
        expect(note?.body).toMatch(/\*\*pi5\*\*: leaves the fleet: drained and removed/);
        expect(note?.body).toMatch(/\| `-` \| delete \| `[^`]*pi5\/amd64-docker[^`]*` \|/);
        expect(note?.body).toMatch(/nodes: pi1, pi2, pi3, pi4, pi5 → pi1, pi2, pi3, pi4/);

        // Merged with every runner back: the protected deploy runners run the default-branch pipeline.
        await follow(s, (await merge(iid)).id, "merge remove-pi5");
        // Drained and gone: no runner of pi5 in GitLab, no pi5 in the Swarm, no app task on it.
        expect(await runnersOf("pi5")).toEqual([]);
        const swarm = await onNode(
          s.sim,
          "pi1",
          "docker node ls --format '{{.Hostname}}'; docker service ps pifleet_app --filter desired-state=running --format '{{.Node}}'",
        );
        expect(swarm.code).toBe(0);
        expect(swarm.stdout).toMatch(/^pi1$/m);
        expect(swarm.stdout).not.toMatch(/pi5/);
      },
      PIPELINE_TEST_TIMEOUT_MS,
    );
  });
}
