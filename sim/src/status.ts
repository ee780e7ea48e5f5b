import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { InputError, OperationError } from "@pifleet/fleet";
import { controlSecretPath } from "./gitlab/control-secret.js";
import { gitlabRunning } from "./gitlab-process.js";
import type { SimArch } from "./layout.js";
import { attachedContainers, simContainers } from "./sim-docker.js";
import { readState, type SimRecord } from "./state.js";

export type NodeState = "running" | "stopped" | "paused" | "partitioned" | "missing" | "restarting" | "created";

export interface SimNodeStatus {
  name: string;
  address: string;
  state: NodeState;
  container: string;
  roles: string[];
}

export interface SimStatus {
  instance: string;
  dir: string;
  arch: SimArch;
  fleetFile: string;
  sshKey: string;
  knownHosts: string;
  sshUser: string;
  /** vip: the app's VIP (app.loadBalancer.vip); absent in sims made before there was one. */
  network: { name: string; subnet: string; gateway: string; vip?: string };
  nodes: SimNodeStatus[];
  /**
   * The emulator; token is the admin's API token (a secret: print the tokenFile path to people, not this).
   * controlSecretFile: the 0600 file holding the control API's secret (send it as the
   * X-Pifleet-Sim-Control header to /-/sim/…); the secret itself is never part of the status.
   */
  gitlab: { url: string; token: string; tokenFile: string; controlSecretFile: string; projectId: number; running: boolean } | null;
  /** apt-cacher-ng URL the nodes' apt uses. */
  aptProxy: string;
  /**
   * "stand-in": gitlab-runner.service on every node is sim/runner-standin, which contacts the
   * emulator for each runner in config.toml (so runners show online) and runs no jobs.
   * null: nothing runs as gitlab-runner (a sim without the emulator).
   */
  runnerService: "stand-in" | null;
}

/** Maps Docker's container state plus network attachment to what a fleet operator cares about. Pure. */
export function nodeState(dockerState: string | undefined, attached: boolean): NodeState {
  switch (dockerState) {
    case undefined:
      return "missing";
    case "running":
      return attached ? "running" : "partitioned";
    case "paused":
      return "paused";
    case "restarting":
    case "created":
      return dockerState;
    default:
      return "stopped";
  }
}

export async function requireState(dir: string): Promise<SimRecord> {
  const state = await readState(resolve(dir));
  if (!state) {
    throw new InputError(
      `no simulated fleet in ${dir}`,
      `Start one with \`pifleet sim up --dir ${dir}\` (or pass the --dir it was started with).`,
    );
  }
  return state;
}

/** The emulator's admin token; a sim with an emulator and no readable token is broken, not tokenless. */
async function readGitlabToken(file: string): Promise<string> {
  try {
    return (await readFile(file, "utf8")).trim();
  } catch (err) {
    throw new OperationError(
      `cannot read the GitLab emulator's token file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      "Recreate the sim: `pifleet sim down`, then `pifleet sim up` (with the same --dir).",
    );
  }
}

export async function statusOf(state: SimRecord): Promise<SimStatus> {
  const { layout } = state;
  const [containers, attached] = await Promise.all([simContainers(layout.instance), attachedContainers(layout.network.name)]);
  const byNode = new Map(containers.map((c) => [c.node, c]));
  return {
    instance: layout.instance,
    dir: layout.dir,
    arch: layout.arch,
    fleetFile: layout.files.fleet,
    sshKey: layout.files.sshKey,
    knownHosts: layout.files.knownHosts,
    sshUser: "pi",
    network: layout.network,
    nodes: layout.nodes.map((n) => ({
      name: n.name,
      address: n.address,
      state: nodeState(byNode.get(n.name)?.state, attached.has(n.container)),
      container: n.container,
      roles: n.roles,
    })),
    gitlab: state.gitlab
      ? {
          ...state.gitlab,
          token: await readGitlabToken(layout.files.gitlabToken),
          tokenFile: layout.files.gitlabToken,
          controlSecretFile: controlSecretPath(layout.files.gitlabState),
          running: await gitlabRunning(layout.files),
        }
      : null,
    aptProxy: state.aptProxy,
    runnerService: state.runnerStandin ? "stand-in" : null,
  };
}

/** `pifleet sim status`: the sim in dir as one object. */
export async function simStatus(dir: string): Promise<SimStatus> {
  return statusOf(await requireState(dir));
}
