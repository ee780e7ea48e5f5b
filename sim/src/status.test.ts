import { describe, expect, it } from "vitest";
import { nodeState } from "./status.js";

describe("nodeState", () => {
  it("reports a running node cut off its network as partitioned", () => {
    expect(nodeState("running", true)).toBe("running");
    expect(nodeState("running", false)).toBe("partitioned");
  });
  it("maps Docker's other states to what an operator expects", () => {
    expect(nodeState("exited", false)).toBe("stopped");
    expect(nodeState("dead", false)).toBe("stopped");
    expect(nodeState("paused", true)).toBe("paused");
    expect(nodeState(undefined, false)).toBe("missing");
  });
});
