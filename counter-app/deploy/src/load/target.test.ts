import { describe, expect, it } from "vitest";
import { isLoadableAddress, loadTarget } from "./target.js";

describe("loadTarget", () => {
  it("accepts loopback and the sim's 198.18.0.0/15", () => {
    expect(loadTarget("http://127.0.0.1:8080").port).toBe("8080");
    expect(loadTarget("http://198.19.1.250").hostname).toBe("198.19.1.250");
    expect(isLoadableAddress("198.18.0.1")).toBe(true);
  });

  it("refuses LAN addresses and names unless told the target is real", () => {
    for (const url of ["http://192.168.1.10", "http://10.0.0.1", "http://172.16.0.1", "http://198.20.0.1", "http://pi1.local"])
      expect(() => loadTarget(url)).toThrow(/refusing to load/);
    expect(loadTarget("http://192.168.1.10", { anyAddress: true }).hostname).toBe("192.168.1.10");
  });

  it("refuses what is not an http URL", () => {
    expect(() => loadTarget("198.19.1.250")).toThrow(/invalid load target/);
    expect(() => loadTarget("https://127.0.0.1")).toThrow(/not http/);
  });
});
