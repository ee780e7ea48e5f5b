import { parseFleet } from "@pifleet/fleet";
import { describe, expect, it } from "vitest";
import { fleetText, testFleet } from "../test-support/fleets.js";
import { desiredStack, planRollout, type ServiceSpec, swarmState } from "./plan.js";
import { renderRolloutPlanMarkdown, renderRolloutPlanText, rolloutPlanToJson } from "./plan-render.js";
import type { TaskRow } from "./rollout.js";

const REGISTRY = "198.19.7.11:5000";
const IMAGES = {
  app: `${REGISTRY}/pifleet/counter:amd64-new`,
  loadBalancer: `${REGISTRY}/pifleet/counter-lb:amd64-l1`,
};
const DIGEST = "@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

const desired = (fleet = testFleet()) => desiredStack(fleet, IMAGES, "pifleet");

/** What `docker service inspect` shows for a service deployed from `spec`, with changes on top. */
function inspected(spec: ServiceSpec, over: { image?: string; replicas?: number; constraints?: string[]; updateStatus?: object } = {}) {
  return {
    ID: `id-${spec.name}`,
    Spec: {
      Name: spec.name,
      Labels: { "com.docker.stack.namespace": "pifleet" },
      Mode: spec.mode === "global" ? { Global: {} } : { Replicated: { Replicas: over.replicas ?? spec.replicas } },
      TaskTemplate: {
        ContainerSpec: { Image: `${over.image ?? spec.image}${DIGEST}` },
        Placement: { Constraints: over.constraints ?? spec.placement },
      },
      UpdateConfig: {
        Parallelism: spec.update.parallelism,
        FailureAction: spec.update.failureAction,
        Order: spec.update.order,
        Monitor: 30_000_000_000,
      },
    },
    ...(over.updateStatus ? { UpdateStatus: over.updateStatus } : {}),
  };
}

function task(service: string, node: string, desiredState = "Running"): TaskRow {
  return { service, node, desiredState, currentState: "Running 2 minutes ago", image: "", error: "" };
}

/** The Swarm after a clean deploy of the desired stack: every app node has its task. */
function deployedTasks(nodes = ["pi1", "pi2", "pi3"]): TaskRow[] {
  return [...nodes.map((n) => task("pifleet_app", n)), task("pifleet_lb", "pi1")];
}

const byName = (name: string) => {
  const spec = desired().services.find((s) => s.name === name);
  if (!spec) throw new Error(`no desired service ${name}`);
  return spec;
};

function actual(services: object[], tasks = deployedTasks()) {
  return swarmState("pifleet", JSON.stringify(services), tasks);
}

const asDeployed = () => desired().services.map((s) => inspected(s));

describe("desiredStack", () => {
  it("reads the generated stack: images, global app on the app nodes, the update policies", () => {
    const d = desired();
    expect(d.services.map((s) => s.name)).toEqual(["pifleet_app", "pifleet_lb"]);
    expect(byName("pifleet_app")).toMatchObject({
      image: IMAGES.app,
      mode: "global",
      nodes: ["pi1", "pi2", "pi3"],
      placement: ["node.labels.pifleet.app == true"],
      update: { order: "start-first", failureAction: "rollback", parallelism: 1 },
    });
    expect(byName("pifleet_lb")).toMatchObject({ update: { order: "stop-first" } });
  });
});

describe("planRollout", () => {
  it("first deploy: creates every service, in the stack file's order", () => {
    const plan = planRollout(desired(), actual([], []));
    expect(plan.changes.map((c) => [c.action, c.service])).toEqual([
      ["create", "pifleet_app"],
      ["create", "pifleet_lb"],
    ]);
    expect(plan.unchanged).toEqual([]);
    expect(plan.warnings).toEqual([]);
  });

  it("no change: an empty plan, although Swarm pinned each image to a digest", () => {
    const plan = planRollout(desired(), actual(asDeployed()));
    expect(plan.changes).toEqual([]);
    expect(plan.unchanged).toEqual(["pifleet_app", "pifleet_lb"]);
  });

  it("image bump: only the app changes, old → new, rolled out start-first with rollback", () => {
    const running = asDeployed();
    running[0] = inspected(byName("pifleet_app"), { image: `${REGISTRY}/pifleet/counter:amd64-old` });
    const plan = planRollout(desired(), actual(running));
    expect(plan.changes).toEqual([
      {
        action: "update",
        service: "pifleet_app",
        changes: [{ field: "image", from: `${REGISTRY}/pifleet/counter:amd64-old`, to: IMAGES.app }],
        update: { order: "start-first", failureAction: "rollback", parallelism: 1 },
      },
    ]);
    expect(plan.unchanged).toEqual(["pifleet_lb"]);
  });

  it("pinned images (an images file) are compared by digest: same tag, other digest is an update; same digest is none", () => {
    const pinnedTo = (digest: string) => ({
      app: `${REGISTRY}/pifleet/counter:aaa${digest}`,
      loadBalancer: `${REGISTRY}/pifleet/counter-lb:ccc${digest}`,
    });
    const OTHER = `@sha256:${"f".repeat(64)}`;
    // Swarm runs what was deployed from pinnedTo(DIGEST): inspected() writes the digest after the tag.
    const running = desiredStack(testFleet(), pinnedTo(DIGEST), "pifleet").services.map((spec) =>
      inspected({ ...spec, image: spec.image.replace(DIGEST, "") }),
    );
    expect(planRollout(desiredStack(testFleet(), pinnedTo(DIGEST), "pifleet"), actual(running)).changes).toEqual([]);
    const plan = planRollout(desiredStack(testFleet(), { ...pinnedTo(DIGEST), app: pinnedTo(OTHER).app }, "pifleet"), actual(running));
    expect(plan.changes).toEqual([
      {
        action: "update",
        service: "pifleet_app",
        changes: [{ field: "image", from: `${REGISTRY}/pifleet/counter:aaa${DIGEST}`, to: `${REGISTRY}/pifleet/counter:aaa${OTHER}` }],
        update: { order: "start-first", failureAction: "rollback", parallelism: 1 },
      },
    ]);
    expect(plan.unchanged).toEqual(["pifleet_lb"]);
  });

  it("a tag planned against a pinned deploy compares tags: a pipeline's unchanged app plans no image change", () => {
    const lists = {
      app: `${REGISTRY}/pifleet/counter:aaa`,
      loadBalancer: `${REGISTRY}/pifleet/counter-lb:ccc`,
    };
    const running = desiredStack(testFleet(), lists, "pifleet").services.map((spec) => inspected(spec));
    expect(planRollout(desiredStack(testFleet(), lists, "pifleet"), actual(running)).changes).toEqual([]);
    const bumped = planRollout(desiredStack(testFleet(), { ...lists, app: `${REGISTRY}/pifleet/counter:ddd` }, "pifleet"), actual(running));
    expect(bumped.changes).toMatchObject([
      { service: "pifleet_app", changes: [{ field: "image", from: lists.app, to: `${REGISTRY}/pifleet/counter:ddd` }] },
    ]);
  });

  it("a service the stack no longer has is removed, after the others (the Redis service of stacks before the sentinels)", () => {
    const old = inspected({ ...byName("pifleet_lb"), name: "pifleet_redis", image: `${REGISTRY}/pifleet/counter-redis:r0` });
    const running = [old, ...asDeployed()];
    running[2] = inspected(byName("pifleet_lb"), { image: `${REGISTRY}/pifleet/counter-lb:amd64-l0` });
    const plan = planRollout(desired(), actual(running));
    expect(plan.changes.map((c) => [c.action, c.service])).toEqual([
      ["update", "pifleet_lb"],
      ["remove", "pifleet_redis"],
    ]);
    expect(plan.changes[1]).toEqual({ action: "remove", service: "pifleet_redis", image: `${REGISTRY}/pifleet/counter-redis:r0` });
  });

  it("placement changes, and an app node that gains its task", () => {
    const want = desired();
    const spec = (name: string) => want.services.find((s) => s.name === name) as ServiceSpec;
    const running = [
      inspected(spec("pifleet_app")),
      inspected(spec("pifleet_lb"), { constraints: ["node.hostname == pi1", "node.labels.pifleet.lb == true"] }),
    ];
    const plan = planRollout(want, actual(running, deployedTasks(["pi1", "pi2"])));
    expect(plan.changes).toMatchObject([
      { service: "pifleet_app", changes: [{ field: "nodes", from: "pi1, pi2", to: "pi1, pi2, pi3" }] },
      {
        service: "pifleet_lb",
        changes: [
          { field: "placement", from: "node.hostname == pi1, node.labels.pifleet.lb == true", to: "node.labels.pifleet.lb == true" },
        ],
      },
    ]);
  });

  it("an app role added in fleet.yaml shows as the node the app spreads to", () => {
    const grown = parseFleet(fleetText().replace("roles: [swarm-worker]\n", "roles: [swarm-worker, app]\n"), "f.yaml");
    const plan = planRollout(desired(grown), actual(asDeployed()));
    expect(plan.changes).toMatchObject([{ service: "pifleet_app", changes: [{ field: "nodes", to: "pi1, pi2, pi3, pi4" }] }]);
  });

  it("a service mid-rollback or paused is planned like any other, with a warning naming its state", () => {
    const running = asDeployed();
    running[0] = inspected(byName("pifleet_app"), {
      image: `${REGISTRY}/pifleet/counter:amd64-old`,
      updateStatus: { State: "rollback_started", StartedAt: "2026-11-24T13:00:00Z", Message: "update rolled back due to failure" },
    });
    running[1] = inspected(byName("pifleet_lb"), { updateStatus: { State: "paused", Message: "update paused due to failure" } });
    const plan = planRollout(desired(), actual(running));
    expect(plan.changes.map((c) => c.service)).toEqual(["pifleet_app"]);
    expect(plan.unchanged).toEqual(["pifleet_lb"]);
    expect(plan.warnings).toEqual([
      {
        service: "pifleet_app",
        message: "an automatic rollback is under way (update rolled back due to failure); deploying now replaces it",
      },
      {
        service: "pifleet_lb",
        message: "its last update is paused (update paused due to failure); deploying starts a new update from the spec it runs now",
      },
    ]);
  });

  it("after a completed rollback, the plan shows the image to try again and says it was rolled back", () => {
    const running = asDeployed();
    running[0] = inspected(byName("pifleet_app"), {
      image: `${REGISTRY}/pifleet/counter:amd64-old`,
      updateStatus: { State: "rollback_completed", Message: "rollback completed" },
    });
    const plan = planRollout(desired(), actual(running));
    expect(plan.changes).toMatchObject([{ action: "update", service: "pifleet_app", changes: [{ field: "image" }] }]);
    expect(plan.warnings[0]?.message).toBe("its last update was rolled back (rollback completed); it runs the previous version");
  });
});

describe("swarmState", () => {
  it("fills Swarm's defaults for a service deployed without an update config, and counts only running tasks' nodes", () => {
    const state = swarmState(
      "pifleet",
      JSON.stringify([{ Spec: { Name: "pifleet_app", Mode: { Global: {} }, TaskTemplate: { ContainerSpec: { Image: `x:1${DIGEST}` } } } }]),
      [task("pifleet_app", "pi2"), task("pifleet_app", "pi1"), task("pifleet_app", "pi3", "Shutdown")],
    );
    expect(state.services).toEqual([
      {
        name: "pifleet_app",
        image: "x:1",
        pinnedImage: `x:1${DIGEST}`,
        mode: "global",
        nodes: ["pi1", "pi2"],
        placement: [],
        update: { order: "stop-first", failureAction: "pause", parallelism: 1 },
        updateState: "none",
        updateMessage: "",
        updateStartedAt: "",
      },
    ]);
  });
});

describe("rendering", () => {
  const running = asDeployed();
  running[0] = inspected(byName("pifleet_app"), { image: `${REGISTRY}/pifleet/counter:amd64-old` });
  const plan = planRollout(desired(), actual(running));

  it("text: one line per service, changes under it, a summary", () => {
    const text = renderRolloutPlanText(plan);
    expect(text).toContain("  ~ update pifleet_app");
    expect(text).toContain(`image: ${REGISTRY}/pifleet/counter:amd64-old → ${IMAGES.app}`);
    expect(text).toContain("rolled out start-first, 1 at a time, on failure rollback");
    expect(text).toContain("Plan: 0 to create, 1 to update, 0 to remove, 1 unchanged.");
  });

  it("markdown: a heading and a table row per change, for the MR note", () => {
    const md = renderRolloutPlanMarkdown(plan);
    expect(md).toContain("### App rollout — stack pifleet");
    expect(md).toContain("| `~` | update | `pifleet_app` | image: ");
    expect(renderRolloutPlanMarkdown(planRollout(desired(), actual(asDeployed())))).toContain(
      "No changes: the Swarm runs the planned images and settings for all 2 services.",
    );
  });

  it("text for a first deploy: where each service will run and how it updates", () => {
    const text = renderRolloutPlanText(planRollout(desired(), actual([], [])));
    expect(text).toContain("one task on each of pi1, pi2, pi3, placed by node.labels.pifleet.app == true");
    expect(text).toContain("updates: stop-first, 1 at a time, on failure rollback");
    expect(text).toContain("Plan: 2 to create, 0 to update, 0 to remove, 0 unchanged.");
  });

  it("json: the plan with a version", () => {
    expect(rolloutPlanToJson(plan)).toMatchObject({ version: 1, stack: "pifleet", unchanged: ["pifleet_lb"] });
  });
});
