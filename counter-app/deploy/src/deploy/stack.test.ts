import { parseFleet } from "@pifleet/fleet";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { fleetText, testFleet } from "../test-support/fleets.js";
import { appTopology } from "./cluster.js";
import { MEMORY, renderStack, stackModel } from "./stack.js";

const IMAGES = {
  app: "198.19.7.11:5000/pifleet/counter:abc",
  loadBalancer: "198.19.7.11:5000/pifleet/lb:123",
};

describe("stackModel", () => {
  const stack = stackModel(testFleet(), IMAGES);

  it("runs one app replica per app-labelled node with start-first, rolling-back updates", () => {
    const { deploy } = stack.services.app;
    expect(deploy.mode).toBe("global");
    expect(deploy.placement.constraints).toEqual(["node.labels.pifleet.app == true"]);
    expect(deploy.update_config).toMatchObject({ order: "start-first", failure_action: "rollback", monitor: "30s", parallelism: 1 });
    expect(stack.services.app.stop_grace_period).toBe("15s");
    expect(stack.services.app.healthcheck.test).toEqual(["CMD", "node", "dist/app/healthcheck.js"]);
    expect(stack.services.app.environment).toMatchObject({ NODE_NAME: "{{.Node.Hostname}}", PORT: "8080" });
  });

  it("leaves the app's CPU uncapped in production; a benchmark's cap reaches the app replicas only", () => {
    expect(stack.services.app.deploy.resources.limits).toEqual({ memory: MEMORY.app });
    const capped = stackModel(testFleet(), IMAGES, undefined, undefined, undefined, { appCpus: 0.2 });
    expect(capped.services.app.deploy.resources.limits).toEqual({ memory: MEMORY.app, cpus: "0.2" });
    expect(capped.services.lb.deploy.resources.limits).toEqual(stack.services.lb.deploy.resources.limits);
  });

  it("keeps the app's shutdown inside its grace period", () => {
    const env = stack.services.app.environment;
    expect(Number(env.DRAIN_MS) + Number(env.SHUTDOWN_TIMEOUT_MS)).toBeLessThan(15_000 + 1);
    expect(Number(env.SHUTDOWN_TIMEOUT_MS)).toBeLessThan(15_000);
  });

  it("runs no Redis in the stack: the app follows the sentinels on the redis nodes and waits for a replica", () => {
    expect(Object.keys(stack.services)).toEqual(["app", "lb"]);
    expect("volumes" in stack).toBe(false);
    const env = stackModel(testFleet({ redisNodes: ["pi1", "pi2", "pi3"] }), IMAGES).services.app.environment;
    expect(env).toMatchObject({
      REDIS_SENTINELS: "198.19.7.11:26379,198.19.7.12:26379,198.19.7.13:26379",
      REDIS_MASTER_NAME: "pifleet",
      REDIS_ACK_REPLICAS: "1",
      REDIS_TIMEOUT_MS: "8000",
    });
    expect("REDIS_URL" in env).toBe(false);
  });

  it("mounts the Redis password's Docker secret (external, by name) and tells the app where; none without one", () => {
    const name = "pifleet_redis_password_0123456789abcdef";
    const model = stackModel(testFleet({ redisNodes: ["pi1", "pi2", "pi3"] }), IMAGES, "pifleet", undefined, name);
    expect(model.services.app.environment).toMatchObject({ REDIS_PASSWORD_FILE: "/run/secrets/redis-password" });
    expect(model.services.app.secrets).toEqual([{ source: "redis_password", target: "redis-password" }]);
    expect(model.secrets).toEqual({ redis_password: { external: true, name } });
    expect("secrets" in model.services.lb).toBe(false);
    expect("secrets" in stack || "secrets" in stack.services.app || "REDIS_PASSWORD_FILE" in stack.services.app.environment).toBe(false);
  });

  it("waits for no replica when the fleet has a single Redis node", () => {
    expect(stack.services.app.environment).toMatchObject({ REDIS_SENTINELS: "198.19.7.11:26379", REDIS_ACK_REPLICAS: "0" });
  });

  it("uses dnsrr everywhere and publishes only the load balancer, in host mode", () => {
    for (const service of Object.values(stack.services)) expect(service.deploy.endpoint_mode).toBe("dnsrr");
    expect(stack.services.lb.ports).toEqual([
      { target: 8080, published: 80, protocol: "tcp", mode: "host" },
      { target: 8404, published: 8404, protocol: "tcp", mode: "host" },
    ]);
    expect("ports" in stack.services.app).toBe(false);
    expect(stack.services.lb.environment).toEqual({ APP_SERVICE: "pifleet_app", APP_PORT: "8080", APP_SLOTS: "6" });
    expect(stack.services.lb.deploy.placement.constraints).toEqual(["node.labels.pifleet.lb == true"]);
  });

  it("sets memory limits that fit a 2 GB Pi", () => {
    const limits = Object.values(stack.services).map((s) => s.deploy.resources.limits.memory);
    const mib = limits.map((m) => Number(m.replace("M", "")));
    expect(mib.every((m) => m > 0)).toBe(true);
    expect(mib.reduce((a, b) => a + b, 0)).toBeLessThan(600);
  });

  it("runs one LB on every loadbalancer node (global on the pifleet.lb label)", () => {
    const fleet = parseFleet(
      fleetText({ appExtra: "  loadBalancer: { vip: 198.19.7.250/24 }\n" }).replace(
        /roles: \[swarm-worker, app\]/g,
        "roles: [swarm-worker, app, loadbalancer]",
      ),
      "f.yaml",
    );
    const s = stackModel(fleet, IMAGES);
    expect(s.services.lb.deploy).toMatchObject({ mode: "global", placement: { constraints: ["node.labels.pifleet.lb == true"] } });
    expect(appTopology(fleet).loadBalancer).toMatchObject({ address: "198.19.7.250", url: "http://198.19.7.250" });
    expect(appTopology(fleet).loadBalancer.nodes.map((n) => n.name)).toEqual(["pi2", "pi3"]);
  });

  it("honours app.loadBalancer.port", () => {
    const s = stackModel(testFleet({ appExtra: "  loadBalancer: { node: pi2, port: 8088 }\n" }), IMAGES);
    expect(s.services.lb.ports[0]?.published).toBe(8088);
  });
});

describe("renderStack", () => {
  it("writes YAML that parses back to the model, with a generated-file header", () => {
    const fleet = testFleet();
    const text = renderStack(fleet, IMAGES);
    expect(text.startsWith("# Generated by pifleet")).toBe(true);
    expect(parse(text)).toEqual(JSON.parse(JSON.stringify(stackModel(fleet, IMAGES))));
    expect(text).toContain('NODE_NAME: "{{.Node.Hostname}}"');
  });

  it("renders what YAML 1.1 (docker stack deploy's parser) reads back as the model: numbers-as-strings stay strings", () => {
    const fleet = testFleet();
    const text = renderStack(fleet, IMAGES);
    expect(text).toContain('REDIS_ACK_REPLICAS: "0"');
    expect(parse(text, { version: "1.1" })).toEqual(JSON.parse(JSON.stringify(stackModel(fleet, IMAGES))));
  });
});

describe("appTopology", () => {
  it("defaults the registry and load balancer to the first swarm manager", () => {
    const t = appTopology(testFleet());
    expect(t.registry).toMatchObject({ port: 5000, host: "198.19.7.11:5000" });
    expect(t.registry.node.name).toBe("pi1");
    expect(t.loadBalancer.nodes.map((n) => n.name)).toEqual(["pi1"]);
    expect(t.loadBalancer.url).toBe("http://198.19.7.11");
    expect(t.appNodes.map((n) => n.name)).toEqual(["pi1", "pi2", "pi3"]);
  });

  it("says what to add when the fleet has no app section", () => {
    const noApp = parseFleet(fleetText().replace(/app:[\s\S]*$/, ""), "f.yaml");
    expect(() => appTopology(noApp)).toThrow("the fleet has no app section");
  });
});
