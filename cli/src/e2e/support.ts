import { fileURLToPath } from "node:url";
import { run, shellJoin, sshArgs } from "@pifleet/io";
import { type ApiJob, type ApiPipeline, type SimStatus, simControlHeaders } from "@pifleet/sim";
import { PIFLEET_BIN } from "../test-support/run-cli.js";

/**
 * What the end-to-end tests share: GitLab's API entities as they read them, polling, the sim's
 * GitLab REST API, a shell on a sim node, and the built `pifleet` as a person runs it.
 */

/** The repository's root: what `sim push` pushes, and where `pifleet` runs. */
export const REPO = fileURLToPath(new URL("../../../", import.meta.url));

export const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
export const minutes = (ms: number) => `${(ms / 60_000).toFixed(1)} min`;
export const logger = (tag: string) => (m: string) => process.stderr.write(`[${tag}] ${m}\n`);

/** Entities::Ci::Job with the fields the tests read beyond the live view's. */
export interface Job extends ApiJob {
  tag_list: string[];
}
export type Pipeline = ApiPipeline;
export interface Runner {
  id: number;
  description: string;
  status: string;
  paused: boolean;
  tag_list: string[];
  access_level: string;
}
export interface Note {
  id: number;
  body: string;
  updated_at: string;
}

/** Probes every `everyMs` until it returns a value; fails naming `what` after `ms`. */
export async function until<T>(what: string, ms: number, probe: () => Promise<T | undefined>, everyMs = 2000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A call to the API prefix + path with the admin token (or another): JSON (or text) back, an HTTP error thrown with its body. */
export type GitlabApi = <T>(method: string, path: string, body?: unknown, token?: string) => Promise<T>;

/** The sim's GitLab REST API, as the admin. */
export function gitlabApi(sim: SimStatus, prefix = "/api/v4"): GitlabApi {
  return async <T>(method: string, path: string, body?: unknown, token = sim.gitlab?.token ?? "") => {
    const res = await fetch(`${sim.gitlab?.url}${prefix}${path}`, {
      method,
      headers: {
        "PRIVATE-TOKEN": token,
        "content-type": "application/json",
        // The control API takes the emulator's own secret, never a GitLab token.
        ...(prefix === "/-/sim" ? simControlHeaders(sim.gitlab) : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${text}`);
    return ((res.headers.get("content-type") ?? "").includes("json") ? JSON.parse(text) : text) as T;
  };
}

/** The sim node whose runner took the job ("-" before one did). */
export const nodeOf = (sim: SimStatus, job: Pick<ApiJob, "runner_manager">) =>
  sim.nodes.find((n) => n.address === job.runner_manager?.ip_address)?.name ?? "-";

/**
 * A command on a node as the sim's user, over SSH with the pinned host key: a shell line, or argv
 * (quoted for the remote shell). Never throws on a non-zero exit: read its code and output.
 */
export function onNode(sim: SimStatus, node: string, command: string | readonly string[]) {
  const target = sim.nodes.find((n) => n.name === node);
  if (!target) throw new Error(`the sim has no node ${node}`);
  const login = sshArgs({ user: sim.sshUser, port: 22, privateKey: sim.sshKey, knownHosts: sim.knownHosts }, target);
  const line = typeof command === "string" ? command : shellJoin(command);
  return run("ssh", [...login, line], { allowFailure: true, timeoutMs: 180_000, describe: `ssh ${node}` });
}

/** The built `pifleet` from the repository root; a non-zero exit throws with the end of its output. */
export async function pifleet(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 30 * 60_000): Promise<string> {
  const res = await pifleetRaw(args, env, timeoutMs);
  if (res.code !== 0)
    throw new Error(`pifleet ${args.join(" ")} exited ${res.code}\n${res.stderr.slice(-4000)}\n${res.stdout.slice(-4000)}`);
  return res.stdout;
}

/** The built `pifleet`, whatever its exit code. */
export function pifleetRaw(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 30 * 60_000) {
  return run(process.execPath, [PIFLEET_BIN, ...args], {
    cwd: REPO,
    env: { ...env, NO_COLOR: "1" },
    timeoutMs,
    allowFailure: true,
    describe: `pifleet ${args.slice(0, 2).join(" ")}`,
  });
}

export const pifleetJson = async <T>(args: string[], env: NodeJS.ProcessEnv): Promise<T> =>
  JSON.parse(await pifleet([...args, "--json"], env)) as T;
