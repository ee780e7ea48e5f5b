import { Router } from "express";
import { ciEngine } from "../ci-engine.js";
import { presentJob } from "../ci-present.js";
import { runnerQueue } from "../ci-queue.js";
import { recordContact } from "../contact.js";
import type { Emulator } from "../context.js";
import { forbidden, paramError, unauthorized } from "../errors.js";
import { type Params, readParams, requireParam, stringParam } from "../params.js";
import type { RunnerConfigReport } from "../state.js";

/** How long a job request presenting the current queue value is held (workhorse's long polling; GitLab's default is 50 s). */
export const LONG_POLL_MS = 10_000;

/** An IPv4 peer of a dual-stack socket reads ::ffff:a.b.c.d; GitLab records a.b.c.d. */
const plainAddress = (ip: string | undefined) => (ip ?? "").replace(/^::ffff:/, "");

function objectParam(p: Params, name: string): Params {
  const v = p[name];
  if (v === undefined) return {};
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw paramError(`${name} is invalid`);
  return v as Params;
}

/** The sim-only fields of info.config (runner-standin sends them; GitLab itself reads only `gpus` there). */
function configReport(info: Params): RunnerConfigReport {
  const config = objectParam(info, "config");
  const docker = objectParam(config, "docker");
  const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : undefined);
  return {
    node: typeof config.node === "string" ? config.node : undefined,
    limit: num(config.limit),
    concurrent: num(config.concurrent),
    docker: {
      volumes: Array.isArray(docker.volumes) ? docker.volumes.map(String) : undefined,
      image: typeof docker.image === "string" ? docker.image : undefined,
      pull_policy: typeof docker.pull_policy === "string" || Array.isArray(docker.pull_policy) ? (docker.pull_policy as string) : undefined,
    },
  };
}

/**
 * Runner- and job-facing endpoints (lib/api/ci/runner.rb, lib/api/ci/jobs.rb), authenticated by the
 * runner token in the body or the job token, never by a personal token:
 *   POST /jobs/request — 201 with a job payload, or 204 (header X-GitLab-Last-Update) when there is none;
 *   GET /job — the job of a CI_JOB_TOKEN (JOB-TOKEN header or job_token), 401 once the job has ended.
 */
export function jobsRequestRouter(emu: Emulator): Router {
  const r = Router();
  const queue = runnerQueue(emu);
  const engine = ciEngine(emu);

  r.post("/jobs/request", async (req, res) => {
    const p = readParams(req);
    const token = requireParam(stringParam(p, "token"), "token");
    const runner = emu.state.runners.find((x) => x.token === token);
    if (!runner) throw forbidden();
    const info = objectParam(p, "info");
    const str = (name: string) => stringParam(info, name);
    const report = {
      systemId: stringParam(p, "system_id"),
      executor: str("executor"),
      architecture: str("architecture"),
      ipAddress: plainAddress(req.ip),
      config: configReport(info),
    };
    recordContact(emu, runner, {
      at: emu.now(),
      ...report,
      version: str("version"),
      revision: str("revision"),
      platform: str("platform"),
    });
    const noJob = () => {
      res.set("X-GitLab-Last-Update", queue.current).status(204).end();
    };
    // GitLab gives a paused runner nothing.
    if (runner.paused) return noJob();
    // The runner has seen the queue as it is: hold the request until it changes (workhorse's long polling).
    const lastUpdate = stringParam(p, "last_update");
    if (lastUpdate !== undefined && lastUpdate === queue.current) {
      await queue.waitForChange(lastUpdate, LONG_POLL_MS);
      if (queue.current === lastUpdate) return noJob();
    }
    // Read again: the runner may have been paused, edited (PUT replaces the record) or deleted meanwhile.
    const current = emu.state.runners.find((x) => x.token === token);
    if (!current || current.paused) return noJob();
    const payload = engine.request(current, report);
    if (!payload) return noJob();
    res.status(201).json(payload);
  });

  r.get("/job", (req, res) => {
    const token = req.get("job-token") ?? stringParam(readParams(req), "job_token");
    const job = token ? engine.jobForToken(token) : undefined;
    if (!job) throw unauthorized();
    res.json(presentJob(emu, job));
  });

  return r;
}
