import { writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { maxDrainedAtOnce, type RollPlan, type RollReport } from "@pifleet/ansible-bridge";
import { type LoadSample, startLoad } from "@pifleet/counter-deploy";
import { loadFleetFile } from "@pifleet/fleet";
import { run } from "@pifleet/io";
import { SIM_PROJECT_FLEET_FILE } from "@pifleet/sim";
import { describe, expect, it } from "vitest";
import { parseDocument } from "yaml";
import { HAND_OFF_KINDS } from "../../rolling/hand-offs.js";
import type { SharedSim } from "../shared-sim.js";
import { logger, onNode, pifleetRaw, type Runner, seconds } from "../support.js";

const log = logger("e2e rolling");

/** PID 1's start time in clock ticks since the kernel booted: a new value means the node booted again. */
const BOOT_MARK = "awk '{ print $22 }' /proc/1/stat";

/**
 * A change that needs a reboot (a boot setting) and an engine restart (daemon.json) on every node,
 * as a person makes it: the fleet file changed, `pifleet configure` records both needs, and
 * `pifleet upgrade --pending-only --yes` rolls them one node at a time while a steady load runs
 * through the load balancer. A runner a person paused before the roll is still paused after it.
 */
/**
 * Each failed request of the load, with the roll's step that was running when it was sent: "+41.2 s 503,
 * during pi2 hand-off (started 0.3 s before)". Times are seconds since the roll started.
 */
function failuresAlongTheRoll(samples: readonly LoadSample[], loadStartedAt: number, report: RollReport): string[] {
  return samples.flatMap((sample) => {
    if (sample.ok) return [];
    const at = loadStartedAt + sample.startMs - report.startedAt;
    const step = report.timeline.filter((e) => e.at <= at).at(-1);
    const during = step
      ? `${step.phase === "start" ? "during" : "after"} ${step.node} ${step.step} (${seconds(at - step.at)} after its ${step.phase})`
      : "before the roll";
    return [
      `failed at ${seconds(at)} (${sample.status ?? sample.error ?? "?"}, answered after ${seconds(sample.endMs - sample.startMs)}), ${during}`,
    ];
  });
}

export function rollingFlow(s: SharedSim): void {
  describe("rolling changes under load", () => {
    it(
      "reboots every node one at a time, drained and undrained, under load through the VIP (failed requests and lost counts printed)",
      async () => {
        const t0 = Date.now();
        // The change, made to the fleet file the default branch deploys (after the MR flows: without pi5, which
        // is still plugged in), in a copy next to the sim's fleet file (its key and known_hosts paths are relative to it).
        const deployed = await run("git", ["--git-dir", join(s.simDir, "project"), "show", `main:${SIM_PROJECT_FLEET_FILE}`]);
        const doc = parseDocument(deployed.stdout);
        doc.setIn(["os", "gpuMemMiB"], 32);
        doc.setIn(["docker", "logMaxSize"], "20m");
        const changed = join(dirname(s.sim.fleetFile), "fleet-rolling.yaml");
        await writeFile(changed, doc.toString());
        const env = { ...s.env, PIFLEET_FLEET: changed };
        const { topology, fleet } = await loadFleetFile(changed);

        // A node holding something no registered hand-off can move (the one Redis, the load balancer
        // without its VIP hook) cannot reboot without an outage: it is left out until the hook exists.
        const kinds = HAND_OFF_KINDS.map((k) => k.what);
        const singleRedis = fleet.nodes.filter((n) => n.roles.includes("redis")).length < 2;
        const holders = [
          ...(kinds.includes("lb-vip") ? [] : (topology.loadBalancer?.nodes.map((n) => n.name) ?? [])),
          ...(kinds.includes("redis-primary") && !singleRedis ? [] : topology.redisNode ? [topology.redisNode.name] : []),
        ];
        const rolled = fleet.nodes.map((n) => n.name).filter((n) => !holders.includes(n));
        log(`rolling ${rolled.join(", ")}${holders.length > 0 ? `; left out (no hand-off yet): ${[...new Set(holders)].join(", ")}` : ""}`);

        const configure = await pifleetRaw(["configure", "--tags", "raspberrypi,docker", "--limit", rolled.join(",")], env);
        expect(configure.code, configure.stderr.slice(-3000)).toBe(0);
        const tConfigured = Date.now();
        const bootBefore = new Map<string, string>();
        for (const node of rolled) {
          const r = await onNode(
            s.sim,
            node,
            `test -e /var/run/reboot-required && test -e /var/run/pifleet-docker-restart-required && ${BOOT_MARK}`,
          );
          expect(r.code, `${node} records both needs after the converge: ${r.stderr}`).toBe(0);
          bootBefore.set(node, r.stdout.trim());
        }

        // A person pauses one runner in the UI before the roll.
        const runners = await s.api<Runner[]>("GET", `${s.project}/runners?per_page=100`);
        const byPerson = runners.find((r) => r.description.includes(`/${rolled[0]}/`));
        expect(byPerson, `a runner on ${rolled[0]}`).toBeDefined();
        await s.api("PUT", `/runners/${byPerson?.id}`, { paused: true });

        const url = topology.loadBalancer?.url;
        expect(url).toBeDefined();
        // A request fails after the probe's default PROBE_TIMEOUT_MS (12 s): above the app's slowest answer (a 503
        // after REDIS_TIMEOUT_MS) plus the SYN retransmissions of a connection opened while the VIP moves.
        const load = await startLoad({ url: url as string, page: `rolling-${Date.now()}`, workers: 2, pauseMs: 50, maxSeconds: 1800 });
        // The samples' zero on the wall clock, to line failures up with the roll's timeline (report.startedAt).
        const loadStartedAt = Date.now() - load.elapsedMs();
        const tRoll = Date.now();
        const upgrade = await pifleetRaw(
          ["upgrade", "--pending-only", "--yes", "--limit", rolled.join(","), "--json"],
          env,
          40 * 60_000,
        ).finally(() => load.stop());
        const tRolled = Date.now();
        const { summary, samples } = await load.done;
        const stillPaused = (await s.api<Runner>("GET", `/runners/${byPerson?.id}`)).paused;
        await s.api("PUT", `/runners/${byPerson?.id}`, { paused: false });
        // What the load saw is printed before anything is asserted: a roll that stops halfway says the most.
        const slowest = Math.max(0, ...samples.map((x) => x.endMs - x.startMs));
        const loadLine = `rolling load: ${summary.requests} requests, ${summary.failed} failed (${summary.failures.map(([r, n]) => `${r} ${n}`).join(", ") || "none"}), ${summary.lost} lost counts, longest gap ${seconds(summary.longestGap.ms)}, slowest answer ${seconds(slowest)}`;
        log(loadLine);
        let out: { plan: RollPlan; report: RollReport } | undefined;
        try {
          out = JSON.parse(upgrade.stdout);
        } catch {
          out = undefined;
        }
        if (out?.report) {
          for (const e of out.report.timeline.filter((e) => e.step === "hand-off" && e.phase === "done"))
            log(`hand-off at ${seconds(e.at)}: ${e.node} ${e.detail ?? ""}`);
          for (const line of failuresAlongTheRoll(samples, loadStartedAt, out.report)) log(line);
        }
        expect(upgrade.code, `${upgrade.stderr.slice(-4000)}\n${upgrade.stdout.slice(-2000)}`).toBe(0);
        if (!out) throw new Error("pifleet upgrade --json printed no report");

        const { report } = out;
        // One node at a time: each node's steps form one block of the timeline, never two drained at once.
        const blocks = report.timeline.map((e) => e.node).filter((n, i, all) => n !== all[i - 1]);
        expect(blocks).toEqual(report.rolled);
        expect(maxDrainedAtOnce(report.timeline)).toBe(1);
        expect([...report.rolled].sort()).toEqual([...rolled].sort());
        expect(report.failed).toBeUndefined();
        for (const node of rolled) {
          const r = await onNode(
            s.sim,
            node,
            `${BOOT_MARK}; test ! -e /var/run/reboot-required && test ! -e /var/run/pifleet-docker-restart-required && echo clear`,
          );
          const [boot, clear] = r.stdout.trim().split("\n");
          expect(boot, `${node} booted again`).not.toBe(bootBefore.get(node));
          expect(clear, `${node}'s needs are done`).toBe("clear");
        }
        const swarm = (
          await onNode(s.sim, topology.primaryManager.name, "docker node ls --format '{{.Hostname}} {{.Status}} {{.Availability}}'")
        ).stdout;
        for (const node of rolled) expect(swarm).toMatch(new RegExp(`^${node} Ready Active$`, "m"));
        expect(stillPaused, "the runner a person paused stays paused").toBe(true);
        const after = await s.api<Runner[]>("GET", `${s.project}/runners?per_page=100`);
        const pausedByPifleetLeft = after.filter(
          (r) => r.id !== byPerson?.id && r.paused && rolled.some((n) => r.description.includes(`/${n}/`)),
        );
        expect(pausedByPifleetLeft.map((r) => r.description)).toEqual([]);

        const perNode = report.rolled.map((node) => {
          const mine = report.timeline.filter((e) => e.node === node);
          return `${node} ${seconds((mine.at(-1)?.at ?? 0) - (mine[0]?.at ?? 0))}`;
        });
        const rollLine = `rolling: configure (records the needs) ${seconds(tConfigured - t0)}, roll of ${report.rolled.length} nodes ${seconds(tRolled - tRoll)}; per node: ${perNode.join(", ")}`;
        log(rollLine);
        s.figures.push(rollLine, loadLine);
        // Issue 12: 0 failed requests and 0 lost counts (the failures, if any, are printed above with the roll's step).
        expect(summary.requests, "the load ran through the whole roll").toBeGreaterThan(0);
        expect(summary.failed, loadLine).toBe(0);
        expect(summary.lost, loadLine).toBe(0);
      },
      60 * 60_000,
    );
  });
}
