import { manualClock, NodeCommandError, recordingShell, Secret, type ShellCall } from "@pifleet/io";
import { describe, expect, it } from "vitest";
import { testFleet } from "../test-support/fleets.js";
import { applyAppPlan, deployStack, planApp, stackStatus } from "./deploy.js";
import { desiredStack } from "./plan.js";
import { redisSecretName } from "./redis-secret.js";

const TAGS = {
  debian: "pifleet/counter-debian:amd64-d",
  nodeBase: "pifleet/counter-node:amd64-n",
  app: "pifleet/counter:amd64-new",
  loadBalancer: "pifleet/counter-lb:amd64-l",
};
const REGISTRY = "198.19.7.11:5000";
const SERVICES = ["pifleet_app", "pifleet_lb"];
/** The digest the fake registry gives every pushed image (and Swarm pins). */
const DIGEST = `sha256:${"a".repeat(64)}`;

/** `docker service inspect` of the stack as deployed from TAGS, the app running `appTag`. */
function inspectJson(appTag = TAGS.app, appUpdateStatus?: object): string {
  const images = { app: `${REGISTRY}/${appTag}`, loadBalancer: `${REGISTRY}/${TAGS.loadBalancer}` };
  const services = desiredStack(testFleet(), images, "pifleet").services.map((s) => ({
    Spec: {
      Name: s.name,
      Mode: s.mode === "global" ? { Global: {} } : { Replicated: { Replicas: s.replicas } },
      TaskTemplate: { ContainerSpec: { Image: `${s.image}@${DIGEST}` }, Placement: { Constraints: s.placement } },
      UpdateConfig: { Parallelism: s.update.parallelism, FailureAction: s.update.failureAction, Order: s.update.order },
    },
    ...(s.name === "pifleet_app" && appUpdateStatus ? { UpdateStatus: appUpdateStatus } : {}),
  }));
  return JSON.stringify(services);
}

/** `docker stack ps` lines: every app node and the single tasks, all running `appTag`. */
function tasksOutput(appTag = TAGS.app): string {
  const row = (name: string, node: string, image: string) =>
    JSON.stringify({
      Name: name,
      Node: node,
      DesiredState: "Running",
      CurrentState: "Running 5 seconds ago",
      Image: `${REGISTRY}/${image}@${DIGEST}`,
    });
  return [
    row("pifleet_app.a", "pi1", appTag),
    row("pifleet_app.b", "pi2", appTag),
    row("pifleet_app.c", "pi3", appTag),
    row("pifleet_lb.1", "pi1", TAGS.loadBalancer),
  ].join("\n");
}

const is = (call: ShellCall, ...words: string[]) => words.every((w, i) => call.argv?.[i] === w);

/** The registry node's engine after a push: `docker image inspect` names the pushed repository's digest. */
function repoDigests(call: ShellCall): string | undefined {
  if (!is(call, "docker", "image", "inspect")) return undefined;
  const ref = call.argv?.at(-1) ?? "";
  return JSON.stringify([`${ref.slice(0, ref.lastIndexOf(":"))}@${DIGEST}`]);
}

/** A Swarm that runs `appTag` now and converges on TAGS.app once the stack is deployed. */
function swarm(appTag?: string) {
  return recordingShell(swarmAnswers(appTag));
}

/** What swarm()'s manager and registry node answer. */
function swarmAnswers(appTag?: string) {
  let deployed = appTag !== undefined;
  let running = appTag ?? TAGS.app;
  return (call: ShellCall) => {
    if (is(call, "docker", "service", "ls")) return deployed ? SERVICES.join("\n") : "";
    if (is(call, "docker", "service", "inspect")) return inspectJson(running);
    if (is(call, "docker", "stack", "ps")) return tasksOutput(running);
    if (is(call, "docker", "image", "ls")) return `${TAGS.loadBalancer}\n`;
    if (is(call, "docker", "stack", "deploy")) {
      deployed = true;
      running = TAGS.app;
    }
    return repoDigests(call);
  };
}

const commands = (calls: ShellCall[]) => calls.map((c) => `${c.node}: ${(c.argv ?? [c.script ?? ""]).slice(0, 3).join(" ")}`);

describe("planApp", () => {
  it("reads the Swarm on the manager, read-only, and plans a first deploy as two creates", async () => {
    const shell = swarm();
    const { plan, images } = await planApp({ built: TAGS }, { fleet: testFleet(), shell });
    expect(commands(shell.calls)).toEqual(["pi1: docker service ls"]);
    expect(plan.changes.map((c) => `${c.action} ${c.service}`)).toEqual(["create pifleet_app", "create pifleet_lb"]);
    expect(images.app).toBe(`${REGISTRY}/${TAGS.app}`);
  });
});

describe("applyAppPlan", () => {
  it("copies what the registry lacks, pushes, deploys the stack and waits until the new image runs", async () => {
    const shell = swarm("pifleet/counter:amd64-old");
    const options = { fleet: testFleet(), shell, clock: manualClock() };
    const planned = await planApp({ built: TAGS }, options);
    expect(planned.plan.changes.map((c) => `${c.action} ${c.service}`)).toEqual(["update pifleet_app"]);
    const result = await applyAppPlan({ built: TAGS }, planned, options);
    expect(result.outcome).toBe("converged");
    expect(result.previousAppImage).toContain("pifleet/counter:amd64-old@sha256:");
    const load = shell.calls.find((c) => c.local);
    expect(load).toMatchObject({ node: "pi1", local: ["docker", ["save", TAGS.app]], argv: ["docker", "load", "-q"] });
    expect(shell.calls.filter((c) => is(c, "docker", "push")).map((c) => c.argv?.[3])).toEqual([
      `${REGISTRY}/${TAGS.app}`,
      `${REGISTRY}/${TAGS.loadBalancer}`,
    ]);
    // Deployed by the digest the push gave, not by the tag, which anyone who can push could move.
    const stackFile = shell.calls.find((c) => c.script?.includes("cat > pifleet/pifleet-stack.yml"));
    expect(stackFile?.input).toContain(`image: ${REGISTRY}/${TAGS.app}@${DIGEST}\n`);
    expect(stackFile?.input).toContain(`image: ${REGISTRY}/${TAGS.loadBalancer}@${DIGEST}\n`);
    expect(result.images).toEqual({ app: `${REGISTRY}/${TAGS.app}@${DIGEST}`, loadBalancer: `${REGISTRY}/${TAGS.loadBalancer}@${DIGEST}` });
    expect(shell.calls.some((c) => is(c, "docker", "stack", "deploy"))).toBe(true);
  });

  it("images from the registry (an images file) are deployed exactly as written: nothing copied, tagged or pushed", async () => {
    const pinned = {
      app: `${REGISTRY}/pifleet/counter:aaa@sha256:${"1".repeat(64)}`,
      loadBalancer: `${REGISTRY}/pifleet/counter-lb:ccc@sha256:${"3".repeat(64)}`,
    };
    let deployed = false;
    const shell = recordingShell((call) => {
      if (is(call, "docker", "stack", "deploy")) deployed = true;
      if (is(call, "docker", "service", "ls")) return deployed ? SERVICES.join("\n") : "";
      if (is(call, "docker", "service", "inspect")) return inspectJson();
      if (is(call, "docker", "stack", "ps")) {
        const row = (name: string, image: string) =>
          JSON.stringify({ Name: name, Node: "pi1", DesiredState: "Running", CurrentState: "Running 1 second ago", Image: image });
        return [
          ...["pi1", "pi2", "pi3"].map((n) => row(`pifleet_app.${n}`, pinned.app).replace('"pi1"', `"${n}"`)),
          row("pifleet_lb.1", pinned.loadBalancer),
        ].join("\n");
      }
      return undefined;
    });
    const options = { fleet: testFleet(), shell, clock: manualClock() };
    const planned = await planApp({ registry: pinned }, options);
    expect(planned.images).toEqual(pinned);
    const result = await applyAppPlan({ registry: pinned }, planned, options);
    expect(result.outcome).toBe("converged");
    expect(shell.calls.filter((c) => c.local || is(c, "docker", "push") || is(c, "docker", "tag") || is(c, "docker", "image"))).toEqual([]);
    const stackFile = shell.calls.find((c) => c.script?.includes("cat > pifleet/pifleet-stack.yml"));
    expect(stackFile?.input).toContain(`image: ${pinned.app}\n`);
    expect(stackFile?.input).toContain(`image: ${pinned.loadBalancer}\n`);
    // The task list is read with digests, so a task running another digest of the same tag does not count as rolled out.
    expect(shell.calls.find((c) => is(c, "docker", "stack", "ps"))?.argv).toContain("--no-trunc");
  });

  it("an empty plan pushes and deploys nothing, and reports the stack as it runs", async () => {
    const shell = swarm(TAGS.app);
    const options = { fleet: testFleet(), shell, clock: manualClock() };
    const planned = await planApp({ built: TAGS }, options);
    expect(planned.plan.changes).toEqual([]);
    const result = await applyAppPlan({ built: TAGS }, planned, options);
    expect(result.outcome).toBe("converged");
    expect(shell.calls.filter((c) => is(c, "docker", "push") || is(c, "docker", "stack", "deploy") || c.local)).toEqual([]);
  });

  it("an empty plan still rolls the app onto the Redis password's Docker secret it lacks; the password only on stdin", async () => {
    const password = "Zq3vR8kLm2Xw9Tb4Np7Hc1Yd6Fg5Js0Ua8Ke3Wi2";
    let secrets = "";
    const swarmAnswer = swarmAnswers(TAGS.app);
    const shell = recordingShell((call) => {
      if (call.script?.startsWith("cat /etc/redis/pifleet-password")) return call.node === "pi1" ? `${password}\n` : undefined;
      if (call.script?.startsWith("docker service inspect --format")) return secrets;
      if (call.script?.startsWith("mkdir -p pifleet")) secrets = redisSecretName(new Secret(password));
      return swarmAnswer(call);
    });
    const options = { fleet: testFleet(), shell, clock: manualClock() };
    const planned = await planApp({ built: TAGS }, options);
    expect(planned.plan.changes).toEqual([]);
    await applyAppPlan({ built: TAGS }, planned, options);
    const name = redisSecretName(new Secret(password));
    const stackFile = shell.calls.find((c) => c.script?.startsWith("mkdir -p pifleet"))?.input ?? "";
    expect(stackFile).toContain(`name: ${name}`);
    expect(stackFile).toContain("REDIS_PASSWORD_FILE: /run/secrets/redis-password");
    expect(shell.calls.filter((c) => is(c, "docker", "stack", "deploy"))).toHaveLength(1);
    expect(shell.calls.filter((c) => c.input === password).map((c) => c.script)).toEqual([
      `docker secret inspect ${name} >/dev/null 2>&1 || docker secret create --label pifleet.redis-password=true ${name} - >/dev/null`,
    ]);
    expect(JSON.stringify(shell.calls.map((c) => ({ ...c, input: c.input === password ? "" : c.input })))).not.toContain(password);

    // Deployed once with it, the same plan changes nothing.
    const again = shell.calls.length;
    await applyAppPlan({ built: TAGS }, await planApp({ built: TAGS }, options), options);
    expect(shell.calls.slice(again).filter((c) => is(c, "docker", "stack", "deploy"))).toEqual([]);
  });

  it("a converged reading counts only once it holds: a global task waiting out its restart delay is not missed", async () => {
    let reads = 0;
    const shell = recordingShell((call) => {
      if (is(call, "docker", "service", "ls")) return SERVICES.join("\n");
      if (is(call, "docker", "service", "inspect")) return inspectJson();
      if (is(call, "docker", "stack", "ps")) {
        reads++;
        // The first reading: pi3's app task failed at start and Swarm has not yet made its next one.
        return reads === 1 ? tasksOutput().replace(/^.*"pifleet_app\.c".*\n/m, "") : tasksOutput();
      }
      return repoDigests(call);
    });
    const result = await applyAppPlan({ built: TAGS }, await planApp({ built: TAGS }, { fleet: testFleet(), shell }), {
      fleet: testFleet(),
      shell,
      clock: manualClock(),
    });
    expect(result.outcome).toBe("converged");
    expect(result.services.find((x) => x.name === "pifleet_app")).toMatchObject({ desired: 3, running: 3 });
    expect(reads).toBeGreaterThan(2);
  });

  it("a rollout that does not settle fails after the timeout, polling on the clock", async () => {
    const clock = manualClock();
    const shell = recordingShell((call) => {
      if (is(call, "docker", "service", "ls")) return SERVICES.join("\n");
      if (is(call, "docker", "service", "inspect")) return inspectJson("pifleet/counter:amd64-old", { State: "updating" });
      if (is(call, "docker", "stack", "ps")) return tasksOutput("pifleet/counter:amd64-old");
      return repoDigests(call);
    });
    await expect(deployStack({ built: TAGS }, { fleet: testFleet(), shell, clock, timeoutMs: 10_000, pollMs: 2000 })).rejects.toThrow(
      /the rollout did not settle within 10 s \(app 0\/3 updating, lb 1\/1\)/,
    );
    expect(clock.sleeps.length).toBeGreaterThan(4);
  });
});

describe("errors name the node and the action", () => {
  it("an SSH failure while watching the rollout is an error, not 'still rolling out'", async () => {
    const shell = recordingShell((call) => {
      if (is(call, "docker", "service", "ls")) return SERVICES.join("\n");
      if (is(call, "docker", "service", "inspect")) return inspectJson();
      if (is(call, "docker", "stack", "ps")) return { code: 255, stderr: "ssh: connect to host 198.19.7.11 port 22: Connection refused" };
      return undefined;
    });
    const failure = await stackStatus({ fleet: testFleet(), shell }).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(NodeCommandError);
    expect(failure).toMatchObject({ node: "pi1", action: "list the tasks of stack pifleet" });
    expect(String(failure)).toContain("Connection refused");
  });

  it("a registry node that cannot list its images stops the push instead of copying everything blindly", async () => {
    const shell = recordingShell((call) => {
      if (is(call, "docker", "service", "ls")) return "";
      if (is(call, "docker", "image", "ls")) return { code: 1, stderr: "Cannot connect to the Docker daemon" };
      return undefined;
    });
    await expect(deployStack({ built: TAGS }, { fleet: testFleet(), shell, clock: manualClock() })).rejects.toMatchObject({
      node: "pi1",
      action: "list the images in its Docker engine",
    });
    expect(shell.calls.some((c) => c.local || is(c, "docker", "stack", "deploy"))).toBe(false);
  });
});
