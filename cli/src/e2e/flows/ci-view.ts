import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SharedSim } from "../shared-sim.js";
import { gitlabApi, logger, pifleetRaw } from "../support.js";

const log = logger("e2e sim ci");
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * `pifleet sim ci`, the live view, checked on pipelines whose jobs the test moves through the
 * emulator's control API (a runner of its own on pi1, tagged `view`, that no stand-in serves), so
 * what the view prints does not depend on jobs really running. Nothing of the fleet takes these
 * jobs (no real runner has the tag), and the runner and the waiting pipeline go away at the end.
 */
export function ciViewFlow(s: SharedSim): void {
  describe("pifleet sim ci", () => {
    const control = () => gitlabApi(s.sim, "/-/sim");
    const sim = (...args: string[]) => pifleetRaw(["sim", ...args, "--dir", s.simDir], s.env, 300_000);
    let runnerId = 0;
    let pipelineId = 0;
    let stuckPipelineId = 0;
    let jobs: { id: number; name: string }[] = [];

    beforeAll(async () => {
      const runner = await s.api<{ id: number }>("POST", "/user/runners", {
        runner_type: "project_type",
        project_id: s.sim.gitlab?.projectId,
        description: `view test on pi1 [view]`,
        tag_list: ["view"],
        run_untagged: false,
      });
      runnerId = runner.id;
      await control()("POST", `/runners/${runnerId}/contact`, { system_id: "s_viewtest", ip_address: s.sim.nodes[0]?.address });
      const made = await control()<{ pipeline: { id: number }; jobs: { id: number; name: string }[] }>("POST", "/pipelines", {
        jobs: [
          { name: "lint", stage: "verify", tag_list: ["view"], status: "pending" },
          { name: "deploy", stage: "deploy", tag_list: ["view"] },
        ],
      });
      pipelineId = made.pipeline.id;
      jobs = made.jobs;
    });

    afterAll(async () => {
      if (stuckPipelineId) await s.api("POST", `${s.project}/pipelines/${stuckPipelineId}/cancel`).catch(() => undefined);
      if (runnerId) await s.api("DELETE", `/runners/${runnerId}`).catch(() => undefined);
    });

    const jobId = (name: string) => jobs.find((j) => j.name === name)?.id;
    const move = (name: string, body: Record<string, unknown>) => control()("PUT", `/jobs/${jobId(name)}`, body);

    it("--follow prints a line per change with node and runner, and exits 0 when the pipeline succeeds", async () => {
      const follower = sim("ci", String(pipelineId), "--follow");
      await pause(3000);
      await move("lint", { status: "running", runner_id: runnerId, system_id: "s_viewtest", trace: "linting\n" });
      await pause(2500);
      await move("lint", { status: "success", append_trace: "lint ok\n" });
      await move("deploy", { status: "pending" });
      await pause(2500);
      await move("deploy", { status: "running", runner_id: runnerId, system_id: "s_viewtest" });
      await move("deploy", { status: "success", trace: "deployed\n" });
      const r = await follower;
      log(r.stdout);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^\\d\\d:\\d\\d:\\d\\d  verify  lint  running  on pi1 \\(runner #${runnerId}\\)$`, "m"));
      expect(r.stdout).toMatch(new RegExp(`^\\d\\d:\\d\\d:\\d\\d  verify  lint  success  on pi1 \\(runner #${runnerId}\\)  \\d+s$`, "m"));
      expect(r.stdout).toMatch(new RegExp(`^\\d\\d:\\d\\d:\\d\\d  pipeline #${pipelineId}  success`, "m"));
      expect(r.stdout).toMatch(/^2 jobs: 2 success · per node: pi1 2$/m);
    });

    it("--json shows the final state; --trace prints a job's log", async () => {
      const r = await sim("ci", String(pipelineId), "--json");
      expect(r.code, r.stderr).toBe(0);
      const view = JSON.parse(r.stdout);
      expect(view).toMatchObject({ id: pipelineId, status: "success", end: null });
      expect(view.jobs.map((j: { name: string; node: string; status: string }) => [j.name, j.node, j.status])).toEqual([
        ["lint", "pi1", "success"],
        ["deploy", "pi1", "success"],
      ]);
      expect((await sim("ci", String(pipelineId), "--trace", "lint")).stdout).toBe("linting\nlint ok\n");
      const none = await sim("ci", String(pipelineId), "--trace", "nosuch");
      expect(none.code).toBe(2);
      expect(none.stderr).toContain('has no job "nosuch"');
      expect((await sim("ci", "999999")).code).toBe(2);
    });

    it("a failed job fails the view (exit 1) with the end of its log and the command for the rest", async () => {
      const made = await control()<{ pipeline: { id: number }; jobs: { id: number }[] }>("POST", "/pipelines", {
        jobs: [{ name: "unit-tests", stage: "verify", tag_list: ["view"], status: "pending" }],
      });
      const id = made.jobs[0]?.id;
      await control()("PUT", `/jobs/${id}`, { status: "running", runner_id: runnerId, system_id: "s_viewtest", trace: "1 test failed\n" });
      await control()("PUT", `/jobs/${id}`, { status: "failed", failure_reason: "script_failure" });
      const r = await sim("ci", String(made.pipeline.id), "--follow");
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`error: pipeline #${made.pipeline.id} failed: unit-tests failed (script_failure)`);
      expect(r.stderr).toContain("1 test failed");
      expect(r.stderr).toContain(`pifleet sim ci ${made.pipeline.id} --trace unit-tests`);
    });

    it("a pipeline no runner can take is reported stuck, with GitLab's reason (exit 1)", async () => {
      // With stages the emulator schedules it as a pushed pipeline, and says why no runner takes its job.
      const made = await control()<{ pipeline: { id: number } }>("POST", "/pipelines", {
        stages: ["verify"],
        jobs: [{ name: "nobody-serves-this", stage: "verify", tag_list: ["no-runner-has-this-tag"], status: "pending" }],
      });
      stuckPipelineId = made.pipeline.id;
      const r = await sim("ci", String(stuckPipelineId), "--follow", "--stuck-timeout", "3s");
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/is stuck: no runner can take nobody-serves-this: This job is stuck because/);
    });
  });
}
