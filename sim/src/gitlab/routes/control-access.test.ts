import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GitlabEmulator, startGitlabEmulator } from "../index.js";
import { fromThisMachine } from "./control-access.js";

/** An HTTP call from a chosen source address: 127.0.0.3 stands for a sim node, another address than the emulator's. */
function callFrom(source: string, url: string, method: string, body?: unknown): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = request(url, { method, localAddress: source, headers: data ? { "content-type": "application/json" } : {} }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        text += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on("error", reject);
    req.end(data);
  });
}

// The emulator listens on 127.0.0.2 as it would on a sim gateway (198.18.x.1): the host calls it from
// that address or from 127.0.0.1, a node from its own address.
let emu: GitlabEmulator;
beforeAll(async () => {
  emu = await startGitlabEmulator({ host: "127.0.0.2", port: 0 });
});
afterAll(async () => {
  await emu.close();
});

describe("the control API answers this machine only", () => {
  it("refuses a caller from another address: no token minted, no fault set, no state read", async () => {
    const minted = await callFrom("127.0.0.3", `${emu.url}/-/sim/tokens`, "POST", { scopes: ["api"] });
    expect(minted.status).toBe(403);
    expect(minted.body).not.toMatch(/glpat-/);
    expect(JSON.parse(minted.body).error).toMatch(/answers only this machine .*not 127\.0\.0\.3/);
    expect((await callFrom("127.0.0.3", `${emu.url}/-/sim/faults`, "POST", { kind: "drop" })).status).toBe(403);
    expect((await callFrom("127.0.0.3", `${emu.url}/-/sim/info`, "GET")).status).toBe(403);
    // The fault was not set: the node's own API calls still get answers.
    expect((await callFrom("127.0.0.3", `${emu.url}/api/v4/version`, "GET")).status).not.toBe(403);
    expect(JSON.parse((await callFrom("127.0.0.1", `${emu.url}/-/sim/faults`, "GET")).body)).toEqual([]);
  });

  it("answers the host, from loopback or from the emulator's own listen address", async () => {
    for (const source of ["127.0.0.1", "127.0.0.2"]) {
      const minted = await callFrom(source, `${emu.url}/-/sim/tokens`, "POST", { scopes: ["read_api"] });
      expect(minted.status).toBe(201);
      expect(JSON.parse(minted.body).token).toMatch(/^glpat-/);
    }
  });

  it("mints a token from a JSON body only, never from query parameters", async () => {
    const res = await callFrom("127.0.0.1", `${emu.url}/-/sim/tokens?scopes=api`, "POST");
    expect(res.status).toBe(400);
    expect(res.body).not.toMatch(/glpat-/);
    expect(JSON.parse(res.body).error).toMatch(/JSON body only.*scopes/);
  });
});

describe("fromThisMachine", () => {
  it("takes loopback (also IPv4-mapped) and the listen address, nothing else", () => {
    expect(fromThisMachine("::ffff:127.0.0.1", "::ffff:198.18.4.1")).toBe(true);
    expect(fromThisMachine("::1", "::1")).toBe(true);
    expect(fromThisMachine("198.18.4.1", "198.18.4.1")).toBe(true);
    expect(fromThisMachine("::ffff:198.18.4.1", "198.18.4.1")).toBe(true);
    expect(fromThisMachine("198.18.4.11", "198.18.4.1")).toBe(false);
    expect(fromThisMachine(undefined, "198.18.4.1")).toBe(false);
  });
});
