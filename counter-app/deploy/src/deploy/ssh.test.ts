import { describe, expect, it } from "vitest";
import { testFleet } from "../test-support/fleets.js";
import { shellQuote, sshArgs } from "./ssh.js";

describe("shellQuote", () => {
  it("leaves plain words alone and single-quotes the rest", () => {
    expect(shellQuote("docker")).toBe("docker");
    expect(shellQuote("198.19.7.11:5000/pifleet/counter:amd64-abc")).toBe("198.19.7.11:5000/pifleet/counter:amd64-abc");
    expect(shellQuote("{{json .}}")).toBe("'{{json .}}'");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(shellQuote("mkdir -p x && cat > y")).toBe("'mkdir -p x && cat > y'");
  });
});

describe("sshArgs", () => {
  it("accepts only the pinned host key, with the fleet's key, user and port", () => {
    const fleet = testFleet();
    const node = fleet.nodes[1];
    if (!node) throw new Error("test fleet has no pi2");
    const args = sshArgs(fleet, node);
    expect(args).toContain("StrictHostKeyChecking=yes");
    expect(args).toContain("BatchMode=yes");
    expect(args).toContain(`UserKnownHostsFile=${fleet.ssh.knownHosts}`);
    expect(args.slice(0, 2)).toEqual(["-i", fleet.ssh.privateKey]);
    expect(args.at(-1)).toBe("pi@198.19.7.12");
    expect(args.slice(-3, -1)).toEqual(["-p", "22"]);
  });
});
