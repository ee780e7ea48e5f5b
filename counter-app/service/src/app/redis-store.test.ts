import { describe, expect, it } from "vitest";
import { reconnectDelay } from "./redis-store.js";

describe("reconnectDelay", () => {
  it("doubles from 50 ms and caps at 2 s, jittered between half and full", () => {
    expect(reconnectDelay(0, () => 0)).toBe(25);
    expect(reconnectDelay(0, () => 1)).toBe(50);
    expect(reconnectDelay(3, () => 1)).toBe(400);
    expect(reconnectDelay(20, () => 1)).toBe(2000);
    expect(reconnectDelay(20, () => 0)).toBe(1000);
  });
});
