import { type Fleet, type FleetNode, OperationError } from "@pifleet/fleet";
import type { ImageTags } from "../images/recipe.js";
import { type AppTopology, appTopology } from "./cluster.js";
import {
  parseTasks,
  parseUpdateStatus,
  type RolloutOutcome,
  type ServiceSnapshot,
  stackOutcome,
  type TaskRow,
  taskCounts,
} from "./rollout.js";
import { type NodeShell, sshShell } from "./ssh.js";
import { renderStack, STACK_NAME, type StackImages } from "./stack.js";

export type Progress = (message: string) => void;

export interface RolloutOptions {
  fleet: Fleet;
  shell?: NodeShell;
  progress?: Progress;
  /** Give up waiting after this long (default 5 minutes); Swarm keeps going on its own. */
  timeoutMs?: number;
  stackName?: string;
  pollMs?: number;
}

export interface RolloutResult {
  outcome: Exclude<RolloutOutcome, "in-progress">;
  services: ServiceSnapshot[];
  tasks: TaskRow[];
  seconds: number;
}

export interface DeployResult extends RolloutResult {
  images: StackImages;
  /** The app image that ran before this deploy, if any. */
  previousAppImage?: string;
}

/** The image as the cluster pulls it: the registry's address in front of the local tag. */
export function registryRef(t: AppTopology, localTag: string): string {
  return `${t.registry.host}/${localTag}`;
}

/**
 * Makes the registry hold the images: they travel as one `docker save | ssh
 * node docker load` (shared layers once; this machine's engine is never
 * pointed at the cluster registry), then the registry node tags and pushes
 * them to itself.
 */
async function pushImages(shell: NodeShell, t: AppTopology, localTags: string[], progress: Progress): Promise<string[]> {
  const node = t.registry.node;
  const missing: string[] = [];
  for (const tag of localTags) {
    const present = await shell.run(node, ["docker", "image", "inspect", "--format", "{{.Id}}", tag]).then(
      () => true,
      () => false,
    );
    if (!present) missing.push(tag);
  }
  if (missing.length > 0) {
    progress(`copying ${missing.join(", ")} to ${node.name}`);
    await shell.pipeTo(node, ["docker", ["save", ...missing]], ["docker", "load", "-q"], `docker load of ${missing.length} images`);
  }
  const refs: string[] = [];
  for (const tag of localTags) {
    const ref = registryRef(t, tag);
    progress(`pushing ${ref}`);
    await shell.run(node, ["docker", "tag", tag, ref]);
    await shell.run(node, ["docker", "push", "-q", ref]);
    refs.push(ref);
  }
  return refs;
}

/** What a rollout waits for: the image each service must run, and update states left from earlier rollouts. */
interface Expectation {
  images?: Partial<Record<string, string>>;
  /** Per service, the UpdateStatus.StartedAt seen before this rollout: that update is history, not news. */
  staleUpdates?: Partial<Record<string, string>>;
}

async function snapshot(shell: NodeShell, manager: FleetNode, stack: string, expect: Expectation = {}) {
  const names = (
    await shell.run(manager, ["docker", "service", "ls", "--filter", `label=com.docker.stack.namespace=${stack}`, "--format", "{{.Name}}"])
  )
    .split("\n")
    .map((n) => n.trim())
    .filter(Boolean)
    .sort();
  const tasks = parseTasks(await shell.run(manager, ["docker", "stack", "ps", stack, "--format", "{{json .}}"]).catch(() => ""));
  const counts = taskCounts(tasks, (service) => expect.images?.[service]);
  const services: ServiceSnapshot[] = [];
  for (const name of names) {
    const status = parseUpdateStatus(
      await shell.run(manager, ["docker", "service", "inspect", "--format", "{{json .UpdateStatus}}", name]),
    );
    const c = counts.get(name) ?? { desired: 0, running: 0 };
    const stale = status.startedAt !== "" && expect.staleUpdates?.[name] === status.startedAt;
    services.push({
      name,
      update: stale ? "none" : status.state,
      updateMessage: stale ? "" : status.message,
      updateStartedAt: status.startedAt,
      ...c,
    });
  }
  return { services, tasks };
}

/** Polls Swarm until the stack converges, rolls back or pauses, reporting progress as it goes. */
export async function waitForRollout(
  options: RolloutOptions,
  expected: Expectation = {},
  settled: (s: ServiceSnapshot[]) => boolean = () => true,
): Promise<RolloutResult> {
  const { fleet, progress = () => {}, timeoutMs = 5 * 60_000, pollMs = 2000 } = options;
  const shell = options.shell ?? sshShell(fleet);
  const stack = options.stackName ?? STACK_NAME;
  const manager = appTopology(fleet).manager;
  const started = Date.now();
  let last = "";
  for (;;) {
    const { services, tasks } = await snapshot(shell, manager, stack, expected);
    const outcome = stackOutcome(services);
    const line = services
      .map((s) => `${s.name.replace(`${stack}_`, "")} ${s.running}/${s.desired}${s.update === "none" ? "" : ` ${s.update}`}`)
      .join(", ");
    if (line !== last) progress(`rollout: ${line || "waiting for services"}`);
    last = line;
    if (outcome !== "in-progress" && settled(services)) return { outcome, services, tasks, seconds: (Date.now() - started) / 1000 };
    if (Date.now() - started > timeoutMs) {
      throw new OperationError(
        `the rollout did not settle within ${Math.round(timeoutMs / 1000)} s (${line})`,
        `Swarm keeps trying; watch it with \`pifleet app status\`, or undo it with \`pifleet app rollback\`.`,
      );
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/**
 * `pifleet app deploy`: pushes the three images to the cluster registry, runs
 * `docker stack deploy` on the first swarm manager, then waits until Swarm
 * has converged on the new images or rolled the update back, and says which.
 */
export async function deployStack(images: ImageTags, options: RolloutOptions): Promise<DeployResult> {
  const { fleet, progress = () => {} } = options;
  const shell = options.shell ?? sshShell(fleet);
  const stack = options.stackName ?? STACK_NAME;
  const t = appTopology(fleet);
  const [app = "", redis = "", loadBalancer = ""] = await pushImages(shell, t, [images.app, images.redis, images.loadBalancer], progress);
  const refs: StackImages = { app, redis, loadBalancer };
  const before = await snapshot(shell, t.manager, stack);
  const staleUpdates = Object.fromEntries(before.services.map((s) => [s.name, s.updateStartedAt]));
  const previousAppImage = await shell
    .run(t.manager, ["docker", "service", "inspect", "--format", "{{.Spec.TaskTemplate.ContainerSpec.Image}}", `${stack}_app`])
    .then(
      (s) => s.trim() || undefined,
      () => undefined,
    );
  progress(`docker stack deploy ${stack} on ${t.manager.name}`);
  const file = `pifleet/${stack}-stack.yml`;
  await shell.run(t.manager, ["sh", "-c", `mkdir -p pifleet && cat > ${file}`], renderStack(fleet, refs, stack));
  await shell.run(t.manager, ["docker", "stack", "deploy", "--prune", "--resolve-image", "always", "-c", file, stack]);
  const expected = { [`${stack}_app`]: refs.app, [`${stack}_redis`]: refs.redis, [`${stack}_lb`]: refs.loadBalancer };
  const result = await waitForRollout(options, { images: expected, staleUpdates });
  return { ...result, images: refs, previousAppImage };
}

/** `pifleet app rollback`: Swarm's rollback to the app's previous spec, waited for like a deploy. */
export async function rollbackApp(options: RolloutOptions): Promise<RolloutResult & { image: string }> {
  const { fleet, progress = () => {} } = options;
  const shell = options.shell ?? sshShell(fleet);
  const stack = options.stackName ?? STACK_NAME;
  const manager = appTopology(fleet).manager;
  const service = `${stack}_app`;
  const previous = await shell.run(manager, ["docker", "service", "inspect", "--format", "{{json .PreviousSpec}}", service]);
  if (previous.trim() === "null") {
    throw new OperationError(`${service} has no previous version to roll back to`, "Roll back only after at least two deploys.");
  }
  const before = await snapshot(shell, manager, stack);
  const staleUpdates = Object.fromEntries(before.services.map((s) => [s.name, s.updateStartedAt]));
  progress(`docker service rollback ${service}`);
  await shell.run(manager, ["docker", "service", "rollback", "--detach", service]);
  const result = await waitForRollout(
    options,
    { staleUpdates },
    (services) => services.find((s) => s.name === service)?.update === "rollback_completed",
  );
  const image = (
    await shell.run(manager, ["docker", "service", "inspect", "--format", "{{.Spec.TaskTemplate.ContainerSpec.Image}}", service])
  ).trim();
  return { ...result, outcome: "rolled-back", image };
}

/** `pifleet app status`: services with their update state, and tasks per node. */
export async function stackStatus(options: RolloutOptions): Promise<{ services: ServiceSnapshot[]; tasks: TaskRow[] }> {
  const shell = options.shell ?? sshShell(options.fleet);
  return snapshot(shell, appTopology(options.fleet).manager, options.stackName ?? STACK_NAME);
}
