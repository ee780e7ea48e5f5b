import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import {
  type CpuUse,
  countCheck,
  cpuCountersScript,
  cpuUse,
  parseCpuCounters,
  parseProcStat,
  placementUpdate,
  type Round,
  renderScaleTable,
  saturation,
  scaleRows,
} from "./scale-model.js";

const LIMITS = { appCpus: 0.2, lbCores: 1 };
const none = { cores: 0, busiest: 0, instances: 0 };
const idle: CpuUse = { app: none, lb: none, redis: none };
const round = (replicas: number, reqPerSec: number, more: Partial<Round> = {}): Round => ({
  replicas,
  reqPerSec,
  p99Ms: 20,
  ok: 1000,
  failed: 0,
  counted: 1000,
  seconds: 10,
  cpu: idle,
  idleCpu: idle,
  hostBusy: 0.5,
  ...more,
});

describe("parseCpuCounters", () => {
  it("reads cgroup v1 nanoseconds, cgroup v2 microseconds and /proc ticks, and skips other services", () => {
    const text = [
      "pifleet_app 3f2a ns 2500000000",
      "pifleet_lb 9c1d usec 1500000",
      "redis-server 812 ticks 250 100",
      "other_svc 77 ns 999",
      "",
    ].join("\n");
    expect(parseCpuCounters("pi1", "pifleet", text)).toEqual([
      { node: "pi1", component: "app", id: "3f2a", seconds: 2.5 },
      { node: "pi1", component: "lb", id: "9c1d", seconds: 1.5 },
      { node: "pi1", component: "redis", id: "812", seconds: 2.5 },
    ]);
  });

  it("refuses a counter it cannot read rather than calling the part idle", () => {
    expect(() => parseCpuCounters("pi2", "pifleet", "pifleet_app 3f2a none 0")).toThrow(/pi2: cannot read the CPU counter line/);
  });
});

describe("cpuCountersScript", () => {
  it("is valid sh and quotes the stack name", () => {
    const script = cpuCountersScript("pifleet");
    expect(script).toContain("label=com.docker.stack.namespace=pifleet ");
    execFileSync("sh", ["-n"], { input: script });
  });
});

describe("cpuUse", () => {
  it("sums each component's instances over the round, ignoring one that started or stopped in between", () => {
    const before = [
      { node: "pi1", component: "app" as const, id: "a", seconds: 10 },
      { node: "pi2", component: "app" as const, id: "b", seconds: 20 },
      { node: "pi1", component: "redis" as const, id: "7", seconds: 5 },
      { node: "pi2", component: "redis" as const, id: "8", seconds: 5 },
      { node: "pi3", component: "app" as const, id: "gone", seconds: 1 },
    ];
    const after = [
      { node: "pi1", component: "app" as const, id: "a", seconds: 12 },
      { node: "pi2", component: "app" as const, id: "b", seconds: 22 },
      { node: "pi1", component: "redis" as const, id: "7", seconds: 6 },
      { node: "pi2", component: "redis" as const, id: "8", seconds: 5.5 },
      { node: "pi4", component: "app" as const, id: "new", seconds: 3 },
    ];
    const use = cpuUse(before, after, 10);
    expect(use.app).toEqual({ cores: 0.4, busiest: 0.2, instances: 2 });
    expect(use.lb).toEqual({ cores: 0, busiest: 0, instances: 0 });
    expect(use.redis.instances).toBe(2);
    expect(use.redis.cores).toBeCloseTo(0.15);
    expect(use.redis.busiest).toBeCloseTo(0.1);
  });
});

describe("parseProcStat", () => {
  it("counts idle and iowait as not busy", () => {
    expect(parseProcStat("cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 1 2 3\n")).toEqual({ busy: 150, total: 1000 });
  });
});

describe("placementUpdate", () => {
  const nodes = ["pi1", "pi2", "pi3", "pi4"];

  it("leaves the app on the first N app nodes, changing only the constraints that differ", () => {
    const one = placementUpdate(nodes, 1, []);
    expect(one.args).toEqual([
      "--constraint-add",
      "node.hostname!=pi2",
      "--constraint-add",
      "node.hostname!=pi3",
      "--constraint-add",
      "node.hostname!=pi4",
    ]);
    expect(one.serving).toEqual(["pi1"]);
    const three = placementUpdate(nodes, 3, one.excluded);
    expect(three.args).toEqual(["--constraint-rm", "node.hostname!=pi2", "--constraint-rm", "node.hostname!=pi3"]);
    expect(placementUpdate(nodes, 4, three.excluded).args).toEqual(["--constraint-rm", "node.hostname!=pi4"]);
    expect(placementUpdate(nodes, 4, []).args).toEqual([]);
  });

  it("refuses more replicas than app nodes", () => {
    expect(() => placementUpdate(nodes, 5, [])).toThrow(/5 replicas on 4 app nodes/);
  });
});

describe("saturation", () => {
  it("names the part nearest its limit: the replicas against N × their cap", () => {
    const r = round(2, 500, {
      cpu: { ...idle, app: { cores: 0.38, busiest: 0.2, instances: 2 }, redis: { cores: 0.3, busiest: 0.3, instances: 1 } },
    });
    const s = saturation(r, LIMITS);
    expect(s.first).toBe("app");
    expect(s.load.app).toBeCloseTo(0.95);
    expect(s.saturated).toBe(true);
  });

  it("says when nothing is at its limit, and can name Redis's single thread or this machine", () => {
    // Three redis-servers at 0.5 + 0.3 + 0.15: the primary's one thread is what saturates, not their sum.
    const redis = { cores: 0.95, busiest: 0.5, instances: 3 };
    const s = saturation(round(4, 900, { hostBusy: 0.3, cpu: { ...idle, redis } }), LIMITS);
    expect(s).toMatchObject({ first: "redis", saturated: false });
    expect(s.load.redis).toBe(0.5);
    expect(saturation(round(4, 900, { hostBusy: 0.97 }), LIMITS)).toMatchObject({ first: "host", saturated: true });
  });
});

describe("scaleRows", () => {
  it("keeps the best round per N, the efficiency against 1 replica, and every lost or extra count", () => {
    const rows = scaleRows(
      [round(1, 400), round(1, 420), round(2, 800), round(2, 760, { ok: 100, counted: 98 }), round(4, 1428, { ok: 50, counted: 51 })],
      LIMITS,
    );
    expect(rows.map((r) => [r.replicas, r.best.reqPerSec, r.efficiency, r.lost, r.extra, r.rounds])).toEqual([
      [1, 420, 1, 0, 0, 2],
      [2, 800, 800 / 840, 2, 0, 2],
      [4, 1428, 0.85, 0, 1, 1],
    ]);
    expect(renderScaleTable(rows).split("\n")).toHaveLength(4);
  });

  it("gives each component's CPU µs per answered request above what it uses idle", () => {
    const cpu = {
      app: { cores: 0.25, busiest: 0.25, instances: 1 },
      lb: { cores: 0.05, busiest: 0.05, instances: 2 },
      redis: { cores: 0.01, busiest: 0.01, instances: 3 },
    };
    const idleCpu = { ...idle, app: { cores: 0.05, busiest: 0.05, instances: 1 } };
    const us = scaleRows([round(1, 5000, { cpu, idleCpu })], LIMITS)[0]?.cpuUsPerRequest;
    expect(us?.app).toBeCloseTo(40);
    expect(us?.lb).toBeCloseTo(10);
    expect(us?.redis).toBeCloseTo(2);
  });

  it("has no efficiency without a 1-replica round", () => {
    expect(scaleRows([round(2, 800)], LIMITS)[0]?.efficiency).toBeUndefined();
  });
});

describe("countCheck", () => {
  it("tells lost (2xx not counted) from extra (counted without a 2xx)", () => {
    expect(countCheck({ ok: 10, counted: 10 })).toEqual({ lost: 0, extra: 0 });
    expect(countCheck({ ok: 10, counted: 8 })).toEqual({ lost: 2, extra: 0 });
    expect(countCheck({ ok: 10, counted: 13 })).toEqual({ lost: 0, extra: 3 });
  });
});
