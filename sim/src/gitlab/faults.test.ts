import { describe, expect, it } from "vitest";
import { FaultQueue } from "./faults.js";

describe("FaultQueue", () => {
  it("hits the next N matching requests, then drops the rule", () => {
    const q = new FaultQueue();
    q.add({ kind: "status", status: 503, remaining: 2 });
    expect(q.take("GET", "/runners").map((f) => f.status)).toEqual([503]);
    expect(q.take("PUT", "/runners/1").map((f) => f.status)).toEqual([503]);
    expect(q.take("GET", "/runners")).toEqual([]);
    expect(q.list()).toEqual([]);
  });

  it("matches on method and path prefix only when given", () => {
    const q = new FaultQueue();
    q.add({ kind: "drop", remaining: 1, method: "put", pathPrefix: "/runners/" });
    expect(q.take("GET", "/runners/1")).toEqual([]);
    expect(q.take("PUT", "/user")).toEqual([]);
    expect(q.take("PUT", "/runners/1").map((f) => f.kind)).toEqual(["drop"]);
  });

  it("adds every latency fault but ends a request with only the first status or drop fault", () => {
    const q = new FaultQueue();
    q.add({ kind: "latency", delayMs: 10, remaining: 1 });
    q.add({ kind: "status", status: 500, remaining: 1 });
    q.add({ kind: "status", status: 502, remaining: 1 });
    expect(q.take("GET", "/user").map((f) => f.kind + (f.status ?? ""))).toEqual(["latency", "status500"]);
    expect(q.take("GET", "/user").map((f) => f.status)).toEqual([502]);
  });
});
