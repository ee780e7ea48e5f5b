import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SimStatus, simDown, simStatus, simUp } from "./index.js";
import { docker } from "./sim-docker.js";
import { sshRun } from "./test-support/ssh.js";

// Several sims at once (other helpers' tests do this): separate names, subnets and keys, and
// one sim's down leaves the other untouched.
let dirs: string[] = [];
let sims: SimStatus[] = [];

beforeAll(async () => {
  dirs = await Promise.all([0, 1].map((i) => mkdtemp(join(tmpdir(), `pifleet-sim-coexist-${i}-`))));
  sims = await Promise.all(dirs.map((dir) => simUp({ dir, nodes: 1, gitlab: false })));
});

afterAll(async () => {
  for (const dir of dirs) {
    await simDown(dir);
    await rm(dir, { recursive: true, force: true });
  }
});

describe("two sims on one machine", () => {
  it("get their own instance, /24 inside 198.19.0.0/16, and keys", async () => {
    const [a, b] = sims;
    expect(a?.instance).not.toBe(b?.instance);
    expect(a?.network.subnet).not.toBe(b?.network.subnet);
    for (const s of sims) expect(s.network.subnet).toMatch(/^198\.19\.\d+\.0\/24$/);
    for (const s of sims) expect(await sshRun(s, s.nodes[0]?.address ?? "", "hostname")).toBe("pi1");
  });

  it("the other sim's key does not open a node", async () => {
    const [a, b] = sims;
    if (!a || !b) throw new Error("two sims expected");
    const crossed: SimStatus = { ...a, sshKey: b.sshKey };
    await expect(sshRun(crossed, a.nodes[0]?.address ?? "", "true")).rejects.toThrow();
  });

  it("down of one leaves the other's containers, network and SSH alone", async () => {
    const [first, second] = [dirs[0] ?? "", sims[1]];
    if (!second) throw new Error("two sims expected");
    await simDown(first);
    expect((await simStatus(second.dir)).nodes.map((n) => n.state)).toEqual(["running"]);
    expect(await docker(["network", "ls", "-q", "--filter", `label=pifleet.sim=${second.instance}`])).not.toBe("");
    expect(await sshRun(second, second.nodes[0]?.address ?? "", "hostname")).toBe("pi1");
  });
});
