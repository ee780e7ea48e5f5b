/**
 * The Swarm as `app plan` reads it, saved for plans that may not read it themselves: a merge
 * request's plan job holds no SSH key (docs/security.md, design D), so it plans against what a
 * protected job observed. The state holds service specs and update states, no secret.
 */
import { InputError } from "@pifleet/fleet";
import { sshShell } from "@pifleet/io";
import { appTopology } from "./cluster.js";
import { type AppImages, imagesFor, type RolloutOptions, readStack } from "./deploy.js";
import { desiredStack, planRollout, type RolloutPlan, type SwarmService, type SwarmState } from "./plan.js";
import { STACK_NAME } from "./stack.js";

/** Reads the stack's services on the primary manager (read-only; the same reading `app plan` makes). */
export async function observeSwarm(options: RolloutOptions): Promise<SwarmState> {
  const stack = options.stackName ?? STACK_NAME;
  const t = appTopology(options.fleet, options.topology);
  const shell = options.shell ?? sshShell(options.fleet.ssh);
  try {
    return (await readStack(shell, t.manager, stack)).state;
  } finally {
    if (!options.shell) await shell.close();
  }
}

/** The rollout from an observed Swarm to what the fleet asks for (pure): `app plan --observed`. */
export function planObservedApp(source: AppImages, observed: SwarmState, options: Pick<RolloutOptions, "fleet" | "topology">): RolloutPlan {
  const images = imagesFor(appTopology(options.fleet, options.topology), source);
  return planRollout(desiredStack(options.fleet, images, observed.stack, options.topology), observed);
}

const isString = (v: unknown): v is string => typeof v === "string";
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function serviceProblems(s: unknown, at: string): string[] {
  if (!isObject(s)) return [`${at}: not an object`];
  const problems: string[] = [];
  for (const k of ["name", "image", "pinnedImage", "updateState", "updateMessage", "updateStartedAt"]) {
    if (!isString(s[k])) problems.push(`${at}.${k}: a string is required`);
  }
  if (s.mode !== "global" && s.mode !== "replicated") problems.push(`${at}.mode: "global" or "replicated" is required`);
  if (!Array.isArray(s.placement) || !s.placement.every(isString)) problems.push(`${at}.placement: a list of strings is required`);
  const u = s.update;
  if (!isObject(u) || !isString(u.order) || !isString(u.failureAction) || typeof u.parallelism !== "number") {
    problems.push(`${at}.update: {order, failureAction, parallelism} is required`);
  }
  return problems;
}

/** A saved Swarm state back from JSON; InputError (exit 2) lists every problem, with `where` in front. */
export function parseSwarmObservation(value: unknown, where: string): SwarmState {
  const problems = !isObject(value)
    ? ["not an object"]
    : [
        ...(isString(value.stack) ? [] : ["stack: a string is required"]),
        ...(Array.isArray(value.services)
          ? value.services.flatMap((s, i) => serviceProblems(s, `services[${i}]`))
          : ["services: a list is required"]),
      ];
  if (problems.length > 0) {
    throw new InputError(
      `${where} is not a Swarm observation:\n  ${problems.join("\n  ")}`,
      "Use the observed.json a fleet-observe job wrote.",
    );
  }
  const state = value as { stack: string; services: SwarmService[] };
  return { stack: state.stack, services: state.services };
}
