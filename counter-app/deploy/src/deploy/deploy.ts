import { type Fleet, type FleetNode, type FleetTopology, OperationError } from "@pifleet/fleet";
import { type Clock, type NodeShell, pushImagesThroughNode, shellQuote, sshShell, systemClock } from "@pifleet/io";
import type { ImageTags } from "../images/recipe.js";
import { type ManagerAttempt, onAnyManager } from "./any-manager.js";
import { type AppTopology, appTopology } from "./cluster.js";
import { desiredStack, planRollout, type RolloutPlan, type SwarmState, swarmState } from "./plan.js";
import { ensureRedisSecret, REDIS_PASSWORD_FILE, readRedisPassword, serviceSecrets } from "./redis-secret.js";
import { parseTasks, type RolloutOutcome, type ServiceSnapshot, stackOutcome, type TaskRow, taskCounts } from "./rollout.js";
import { renderStack, STACK_NAME, type StackImages, type StackOptions } from "./stack.js";

export type Progress = (message: string) => void;

export interface RolloutOptions {
  fleet: Fleet;
  /** The fleet's resolved topology (loadFleetFile returns it); resolved from the fleet when absent. */
  topology?: FleetTopology;
  /** Commands on the nodes; an SSH shell on the fleet's settings (closed at the end) when absent. */
  shell?: NodeShell;
  clock?: Clock;
  progress?: Progress;
  /** Give up waiting after this long (default 5 minutes); Swarm keeps going on its own. */
  timeoutMs?: number;
  stackName?: string;
  pollMs?: number;
  /** Benchmark knobs for the stack (e.g. a CPU cap per app replica); none in production. */
  stack?: StackOptions;
}

export interface RolloutResult {
  outcome: Exclude<RolloutOutcome, "in-progress">;
  services: ServiceSnapshot[];
  tasks: TaskRow[];
  seconds: number;
}

export interface DeployResult extends RolloutResult {
  images: StackImages;
  /** The app image that ran before this deploy (as Swarm pinned it), if any. */
  previousAppImage?: string;
  /** What the deploy set out to change. */
  plan: RolloutPlan;
}

/** The image as the cluster pulls it: the registry's address in front of the local tag. */
export function registryRef(t: AppTopology, localTag: string): string {
  return `${t.registry.host}/${localTag}`;
}

/** The cluster's references for the three images the stack runs. */
export function stackImages(t: AppTopology, tags: ImageTags): StackImages {
  return { app: registryRef(t, tags.app), loadBalancer: registryRef(t, tags.loadBalancer) };
}

/**
 * What a rollout deploys: images this machine built (`built`: copied to the
 * registry node and pushed from there by the apply), or refs the registry
 * holds already (`registry`: e.g. `app manifest`'s images file, pinned by
 * digest, rolled out exactly as written; nothing is built, copied or pushed).
 */
export type AppImages = { built: ImageTags } | { registry: StackImages };

export const imagesFor = (t: AppTopology, source: AppImages): StackImages =>
  "registry" in source ? source.registry : stackImages(t, source.built);

/** Runs fn with the caller's shell, or with an SSH shell of its own that is closed afterwards. */
/** Runs fn on options.shell, or on an SSH shell for the fleet that is closed afterwards. */
export async function withShell<T>(options: { fleet: Fleet; shell?: NodeShell }, fn: (shell: NodeShell) => Promise<T>): Promise<T> {
  if (options.shell) return fn(options.shell);
  const shell = sshShell(options.fleet.ssh);
  try {
    return await fn(shell);
  } finally {
    await shell.close();
  }
}

/** What the Swarm runs for the stack, read on a manager (read-only): the services' specs and the task list. */
export interface StackReading {
  state: SwarmState;
  tasks: TaskRow[];
}

export async function readStack(shell: NodeShell, manager: FleetNode, stack: string): Promise<StackReading> {
  const listed = await shell.run(
    manager,
    ["docker", "service", "ls", "--filter", `label=com.docker.stack.namespace=${stack}`, "--format", "{{.Name}}"],
    { describe: `list the services of stack ${stack}` },
  );
  const names = listed.stdout
    .split("\n")
    .map((n) => n.trim())
    .filter(Boolean);
  // `docker stack ps` fails on a stack without services: nothing deployed yet is an answer, not an error.
  if (names.length === 0) return { state: swarmState(stack, "[]", []), tasks: [] };
  const inspected = await shell.run(manager, ["docker", "service", "inspect", ...names], {
    describe: `inspect the services of stack ${stack}`,
  });
  const tasks = parseTasks(
    // --no-trunc: each task's image with the digest it runs, not only its tag.
    (
      await shell.run(manager, ["docker", "stack", "ps", "--no-trunc", stack, "--format", "{{json .}}"], {
        describe: `list the tasks of stack ${stack}`,
      })
    ).stdout,
  );
  return { state: swarmState(stack, inspected.stdout, tasks), tasks };
}

/** What a rollout waits for: the image each service must run, and update states left from earlier rollouts. */
interface Expectation {
  images?: Partial<Record<string, string>>;
  /** Per service, the UpdateStatus.StartedAt seen before this rollout: that update is history, not news. */
  staleUpdates?: Partial<Record<string, string>>;
}

/** Per service: Swarm's update state (earlier rollouts' left out) and how many tasks run what is expected. */
function snapshot({ state, tasks }: StackReading, expect: Expectation = {}): ServiceSnapshot[] {
  const counts = taskCounts(tasks, (service) => expect.images?.[service]);
  return state.services.map((s) => {
    const stale = s.updateStartedAt !== "" && expect.staleUpdates?.[s.name] === s.updateStartedAt;
    return {
      name: s.name,
      update: stale ? "none" : s.updateState,
      updateMessage: stale ? "" : s.updateMessage,
      updateStartedAt: s.updateStartedAt,
      ...(counts.get(s.name) ?? { desired: 0, running: 0 }),
    };
  });
}

const staleUpdatesOf = (state: SwarmState) => Object.fromEntries(state.services.map((s) => [s.name, s.updateStartedAt]));

/**
 * How long a converged reading must hold before it counts. A global service's task that failed at start
 * waits out its restart delay (restart_policy, 2 s) with no task wanted on that node, so a single
 * reading can show such a service converged one node short (seen: app 2/2 on a 3-node sim).
 */
const SETTLE_MS = 5000;

/** Polls Swarm until the stack converges (and stays so for SETTLE_MS), rolls back or pauses, reporting progress as it goes. */
async function waitForRollout(
  shell: NodeShell,
  manager: FleetNode,
  options: RolloutOptions,
  expected: Expectation = {},
  settled: (s: ServiceSnapshot[]) => boolean = () => true,
): Promise<RolloutResult> {
  const { progress = () => {}, timeoutMs = 5 * 60_000, pollMs = 2000, clock = systemClock } = options;
  const stack = options.stackName ?? STACK_NAME;
  const started = clock.now();
  let last = "";
  let sameSince = started;
  for (;;) {
    const reading = await readStack(shell, manager, stack);
    const services = snapshot(reading, expected);
    const outcome = stackOutcome(services);
    const line = services
      .map((s) => `${s.name.replace(`${stack}_`, "")} ${s.running}/${s.desired}${s.update === "none" ? "" : ` ${s.update}`}`)
      .join(", ");
    if (line !== last) {
      progress(`rollout: ${line || "waiting for services"}`);
      sameSince = clock.now();
    }
    last = line;
    const seconds = (clock.now() - started) / 1000;
    const steady = outcome !== "converged" || clock.now() - sameSince >= SETTLE_MS;
    if (outcome !== "in-progress" && steady && settled(services)) return { outcome, services, tasks: reading.tasks, seconds };
    if (clock.now() - started > timeoutMs) {
      throw new OperationError(
        `the rollout did not settle within ${Math.round(timeoutMs / 1000)} s (${line})`,
        `Swarm keeps trying; watch it with \`pifleet app status\`, or undo it with \`pifleet app rollback\`.`,
      );
    }
    await clock.sleep(pollMs);
  }
}

/** A plan, with what it was computed from: the images it deploys and the Swarm as it was read. */
export interface AppPlan {
  plan: RolloutPlan;
  images: StackImages;
  before: StackReading;
}

async function planOn(shell: NodeShell, source: AppImages, options: RolloutOptions): Promise<AppPlan> {
  const stack = options.stackName ?? STACK_NAME;
  const t = appTopology(options.fleet, options.topology);
  const images = imagesFor(t, source);
  const before = await readStack(shell, t.manager, stack);
  const plan = planRollout(desiredStack(options.fleet, images, stack, options.topology), before.state);
  return { plan, images, before };
}

/** `pifleet app plan`: what deploying these images would change, from what the Swarm runs now (read-only). */
export function planApp(source: AppImages, options: RolloutOptions): Promise<AppPlan> {
  return withShell(options, (shell) => planOn(shell, source, options));
}

async function applyOn(shell: NodeShell, source: AppImages, planned: AppPlan, options: RolloutOptions): Promise<DeployResult> {
  const { fleet, progress = () => {} } = options;
  const stack = options.stackName ?? STACK_NAME;
  const t = appTopology(fleet, options.topology);
  const { before, plan } = planned;
  let { images } = planned;
  const previousAppImage = before.state.services.find((s) => s.name === `${stack}_app`)?.pinnedImage;
  const redisSecret = await redisSecretFor(shell, t, progress);
  // The plan compares images and placement; a new password alone (a new secret name) is a rollout too.
  const newSecret = redisSecret !== undefined && !(await serviceSecrets(shell, t.manager, `${stack}_app`)).includes(redisSecret);
  if (newSecret && plan.changes.length === 0) progress(`the app gets the Redis password's Docker secret ${redisSecret}`);
  if (plan.changes.length > 0 || newSecret) {
    if ("built" in source) {
      const { app, loadBalancer } = source.built;
      const [pushedApp, pushedLb] = await pushImagesThroughNode(
        shell,
        t.registry.node,
        [app, loadBalancer].map((local) => ({ local, ref: registryRef(t, local) })),
        progress,
      );
      // Deployed by digest: what was just pushed, not whatever the tag names when a node pulls it.
      if (pushedApp && pushedLb) images = { app: pushedApp.pinned, loadBalancer: pushedLb.pinned };
    }
    progress(`docker stack deploy ${stack} on ${t.manager.name}`);
    const file = `pifleet/${stack}-stack.yml`;
    await shell.script(t.manager, `mkdir -p pifleet && cat > ${shellQuote(file)}`, {
      input: renderStack(fleet, images, stack, options.topology, redisSecret, options.stack),
      describe: `write the stack file ${file}`,
    });
    await shell.run(t.manager, ["docker", "stack", "deploy", "--prune", "--resolve-image", "always", "-c", file, stack], {
      describe: `docker stack deploy ${stack}`,
    });
  } else {
    progress("no changes to apply; checking that the stack runs as planned");
  }
  const expected = { [`${stack}_app`]: images.app, [`${stack}_lb`]: images.loadBalancer };
  const result = await waitForRollout(shell, t.manager, options, { images: expected, staleUpdates: staleUpdatesOf(before.state) });
  return { ...result, images, plan, ...(previousAppImage ? { previousAppImage } : {}) };
}

/**
 * The Docker secret with the fleet's Redis password, created on the manager if new; undefined (said through
 * progress) while no redis node has a password: its Redis requires none then either.
 */
async function redisSecretFor(shell: NodeShell, t: AppTopology, progress: Progress): Promise<string | undefined> {
  const password = await readRedisPassword(shell, t.redisNodes);
  if (password) return ensureRedisSecret(shell, t.manager, password);
  progress(`no redis node has the fleet's Redis password yet (${REDIS_PASSWORD_FILE}): the app connects without one`);
  return undefined;
}

/**
 * Applies a plan made by planApp: pushes built images to the cluster registry
 * (registry ones are there already), runs `docker stack deploy` on the first
 * swarm manager, then waits until Swarm has converged on the new images or
 * rolled the update back, and says which. An empty plan changes nothing and
 * only checks the stack.
 */
export function applyAppPlan(source: AppImages, planned: AppPlan, options: RolloutOptions): Promise<DeployResult> {
  return withShell(options, (shell) => applyOn(shell, source, planned, options));
}

/** `pifleet app deploy` in one call: plan, report it through progress, apply it. */
export function deployStack(source: AppImages, options: RolloutOptions): Promise<DeployResult> {
  return withShell(options, async (shell) => {
    const planned = await planOn(shell, source, options);
    const { changes } = planned.plan;
    options.progress?.(`plan: ${changes.length === 0 ? "no changes" : changes.map((c) => `${c.action} ${c.service}`).join(", ")}`);
    return applyOn(shell, source, planned, options);
  });
}

/** `pifleet app rollback`: Swarm's rollback to the app's previous spec, waited for like a deploy. */
export function rollbackApp(options: RolloutOptions): Promise<RolloutResult & { image: string }> {
  const { fleet, progress = () => {} } = options;
  const stack = options.stackName ?? STACK_NAME;
  const manager = appTopology(fleet, options.topology).manager;
  const service = `${stack}_app`;
  return withShell(options, async (shell) => {
    const previous = await shell.run(manager, ["docker", "service", "inspect", "--format", "{{json .PreviousSpec}}", service], {
      describe: `read the previous version of ${service}`,
    });
    if (previous.stdout.trim() === "null") {
      throw new OperationError(`${service} has no previous version to roll back to`, "Roll back only after at least two deploys.");
    }
    const before = await readStack(shell, manager, stack);
    progress(`docker service rollback ${service}`);
    await shell.run(manager, ["docker", "service", "rollback", "--detach", service], { describe: `docker service rollback ${service}` });
    const result = await waitForRollout(
      shell,
      manager,
      options,
      { staleUpdates: staleUpdatesOf(before.state) },
      (services) => services.find((s) => s.name === service)?.update === "rollback_completed",
    );
    const after = await readStack(shell, manager, stack);
    const image = after.state.services.find((s) => s.name === service)?.pinnedImage;
    if (image === undefined)
      throw new OperationError(`${service} is gone from stack ${stack} after its rollback`, "See `pifleet app status`.");
    return { ...result, outcome: "rolled-back", image };
  });
}

/**
 * `pifleet app status`: services with their update state, and tasks per node, read through the first
 * manager that answers (the first one may be the node that is down); `manager` names it.
 */
export function stackStatus(options: RolloutOptions): Promise<{ manager: string; services: ServiceSnapshot[]; tasks: TaskRow[] }> {
  const { managers } = appTopology(options.fleet, options.topology);
  const skipped = (a: ManagerAttempt) => options.progress?.(`${a.error}; asking the next manager`);
  return withShell(options, (shell) =>
    onAnyManager(
      managers,
      async (manager) => {
        const reading = await readStack(shell, manager, options.stackName ?? STACK_NAME);
        return { manager: manager.name, services: snapshot(reading), tasks: reading.tasks };
      },
      skipped,
    ),
  );
}
