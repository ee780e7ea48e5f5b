import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { run } from "@pifleet/io";
import { fleetPathOf } from "@pifleet/pipelines";
import { type ExistingVariable, SIM_PROJECT_FLEET_FILE, SIM_PROJECT_KNOWN_HOSTS } from "@pifleet/sim";
import { describe, expect, it } from "vitest";
import { PIFLEET_BIN } from "../../test-support/run-cli.js";
import { follow, PIPELINE_TEST_TIMEOUT_MS, type SharedSim } from "../shared-sim.js";
import { type Pipeline, pifleet, pifleetJson, REPO } from "../support.js";

/**
 * `pifleet sim push` of this repository, twice, as `npm run up` does it: the first push ([skip ci])
 * is checked for what it committed and the CI/CD variables it set; the second changes nothing (an
 * empty commit) and its default-branch pipeline deploys the baseline the merge requests start from:
 * the pifleet image, configure, runners, the app images and the rollout, on the nodes' runners.
 */
export function baselineFlow(s: SharedSim): void {
  describe("sim push: the baseline on the default branch", () => {
    let first: {
      sha: string;
      pipeline: Pipeline | null;
      changed: boolean;
      variables: { created: string[]; updated: string[]; unchanged: string[] };
    };

    it("pushes the working tree with the sim's fleet file, known_hosts and generated .gitlab-ci.yml; [skip ci] skips its pipeline", async () => {
      first = await pifleetJson(["sim", "push", "--dir", s.simDir, "--message", "baseline [skip ci]"], s.env);
      expect(first.pipeline).toMatchObject({ sha: first.sha, ref: "main", source: "push", status: "skipped" });
      // `pifleet bootstrap` (first-run flow) set the key and the token: the push finds them as they are, so
      // every pipeline below runs with what bootstrap put there.
      expect(first.variables.unchanged).toEqual(expect.arrayContaining(["PIFLEET_SSH_KEY", "GITLAB_TOKEN"]));
      const show = async (path: string) =>
        (await run("git", ["--git-dir", join(s.simDir, "project"), "show", `${first.sha}:${path}`])).stdout;
      expect(await show(SIM_PROJECT_FLEET_FILE)).toBe(await readFile(s.sim.fleetFile, "utf8"));
      expect(await show(SIM_PROJECT_KNOWN_HOSTS)).toBe(await readFile(s.sim.knownHosts, "utf8"));
      expect(fleetPathOf(await show(".gitlab-ci.yml"))).toBe(SIM_PROJECT_FLEET_FILE);
      expect(await show("package.json")).toBe(await readFile(join(REPO, "package.json"), "utf8"));
    });

    it("the pushed .gitlab-ci.yml is what `pifleet pipeline check` regenerates in a checkout (its drift check passes there)", async () => {
      const checkout = join(s.root, "checkout");
      await run("git", ["--git-dir", join(s.simDir, "project"), "worktree", "add", "--detach", checkout, first.sha]);
      const check = await run(process.execPath, [PIFLEET_BIN, "pipeline", "check"], { cwd: checkout, allowFailure: true });
      expect(check.code, check.stderr + check.stdout).toBe(0);
    });

    it("sets the variables the pipeline reads: the key and token for the fleet's environment, the note token, the build proxy and the mirror's images", async () => {
      const vars = await s.api<ExistingVariable[]>("GET", `${s.project}/variables?per_page=100`);
      const byKey = new Map(vars.map((v) => [v.key, v]));
      // Design D (docs/security.md): the deploy credentials only for the jobs of environment production; no plan pair.
      expect(byKey.get("PIFLEET_SSH_KEY")).toMatchObject({ variable_type: "file", protected: true, environment_scope: "production" });
      expect(byKey.get("PIFLEET_SSH_KEY")?.value).toBe(await readFile(s.sim.sshKey, "utf8"));
      expect(byKey.get("GITLAB_TOKEN")).toMatchObject({ masked: true, protected: true, environment_scope: "production" });
      expect(byKey.get("PIFLEET_NOTE_TOKEN")).toMatchObject({ masked: true, protected: false, environment_scope: "*" });
      expect(byKey.has("PIFLEET_PLAN_SSH_KEY") || byKey.has("PIFLEET_PLAN_TOKEN")).toBe(false);
      expect(byKey.get("PIFLEET_BUILD_PROXY")?.value).toBe(s.sim.aptProxy);
      expect(byKey.get("PIFLEET_NODE_IMAGE")?.value).toMatch(/^[\d.]+:5000\/mirror\/node:24-bookworm$/);
      for (const key of ["GITLAB_TOKEN", "PIFLEET_NOTE_TOKEN"]) {
        await expect(s.api("GET", "/user", undefined, byKey.get(key)?.value ?? undefined)).resolves.toBeTruthy();
      }
    });

    it(
      "a second push with nothing changed is an empty commit whose default-branch pipeline deploys the baseline",
      async () => {
        const out = await pifleet(["sim", "push", "--dir", s.simDir, "--message", "deploy the baseline"], s.env);
        expect(out).toMatch(
          /^pushed [0-9a-f]{8} to main of http:\/\/.*\/pifleet\/infra\.git: \d+ files, nothing changed \(an empty commit\)$/m,
        );
        expect(out).toMatch(/^CI\/CD variables: 0 created, 0 updated, \d+ unchanged$/m);
        const id = Number(out.match(/^pipeline #(\d+) \w+: http/m)?.[1]);
        expect(id).toBeGreaterThan(first.pipeline?.id ?? 0);
        const jobs = await follow(s, id, "baseline deploy");
        // No code changed since the [skip ci] commit: rules:changes leave out lint, typecheck and unit tests.
        expect(jobs.map((j) => j.name).sort()).toEqual(
          [
            "app-manifest",
            "build-image:amd64",
            "configure",
            "deploy",
            "fleet-observe",
            "fleet-validate",
            "pifleet-image",
            "pipeline-check",
            "runners-apply",
            "smoke-test",
            "upgrade-pending",
          ].sort(),
        );
        // Bootstrap's converge recorded the boot-settings reboot on every node (sim nodes stand in for Pis): the
        // first pipeline rolls it on every node but the job's own, one at a time. Later pushes: a read of each node.
        const pending = jobs.find((j) => j.name === "upgrade-pending");
        s.figures.push(`baseline deploy: upgrade-pending (the first converge's reboots) took ${pending?.duration?.toFixed(1) ?? "?"} s`);
      },
      PIPELINE_TEST_TIMEOUT_MS,
    );
  });
}
