import { createHash } from "node:crypto";
import { knownKeysFor } from "@pifleet/io";
import { describe, expect, it } from "vitest";
import {
  classifyHostKeys,
  fingerprint,
  type NodeHostKeys,
  parseKeyscan,
  pinLines,
  refusalMessage,
  renderFingerprints,
  withPins,
} from "./host-keys.js";

const b64 = (s: string) => Buffer.from(s).toString("base64");
const key = (type: string, blob: string) => ({ type, key: Buffer.from(blob) });
const nodes = [
  { name: "pi1", address: "198.19.0.2" },
  { name: "pi2", address: "198.19.0.3" },
];

describe("parseKeyscan and fingerprint", () => {
  it("reads ssh-keyscan's key lines and skips its comments", () => {
    const text = `# 198.19.0.2:22 SSH-2.0-OpenSSH_9.2p1\n198.19.0.2 ssh-ed25519 ${b64("ed")}\n\n198.19.0.2 ecdsa-sha2-nistp256 ${b64("ec")}\n`;
    expect(parseKeyscan(text)).toEqual([key("ssh-ed25519", "ed"), key("ecdsa-sha2-nistp256", "ec")]);
    expect(parseKeyscan("")).toEqual([]);
  });

  it("prints OpenSSH's SHA256 form: base64 of the blob's digest, no padding", () => {
    const digest = createHash("sha256").update("ed").digest("base64");
    expect(digest.endsWith("=")).toBe(true);
    expect(fingerprint(Buffer.from("ed"))).toBe(`SHA256:${digest.replace(/=+$/, "")}`);
  });
});

describe("classifyHostKeys", () => {
  const offered = (entries: [string, ReturnType<typeof key>[]][]) => new Map(entries);

  it("a node absent from known_hosts is new; one whose offered key is pinned is pinned", () => {
    const known = `198.19.0.2 ssh-ed25519 ${b64("one")}\n`;
    const r = classifyHostKeys(
      known,
      nodes,
      22,
      offered([
        ["pi1", [key("ssh-ed25519", "one"), key("ssh-rsa", "rsa1")]],
        ["pi2", [key("ssh-ed25519", "two")]],
      ]),
    );
    expect(r.map((n) => [n.node, n.status])).toEqual([
      ["pi1", "pinned"],
      ["pi2", "new"],
    ]);
  });

  it("a different key of a pinned type is changed, even when another offered key matches", () => {
    const known = `198.19.0.2 ssh-ed25519 ${b64("one")}\n198.19.0.2 ssh-rsa ${b64("rsa-old")}\n`;
    const [pi1] = classifyHostKeys(
      known,
      nodes.slice(0, 1),
      22,
      offered([["pi1", [key("ssh-ed25519", "one"), key("ssh-rsa", "rsa-new")]]]),
    );
    expect(pi1?.status).toBe("changed");
  });

  it("pinned keys of types the node no longer offers are a change, not a new node", () => {
    const known = `198.19.0.2 ssh-rsa ${b64("rsa")}\n`;
    const [pi1] = classifyHostKeys(known, nodes.slice(0, 1), 22, offered([["pi1", [key("ssh-ed25519", "one")]]]));
    expect(pi1?.status).toBe("changed");
  });

  it("a node that offered no key is silent", () => {
    expect(classifyHostKeys("", nodes.slice(0, 1), 22, new Map())[0]?.status).toBe("silent");
  });

  it("matches [host]:port entries on another port, and not the bare ones", () => {
    const known = `[198.19.0.2]:2222 ssh-ed25519 ${b64("one")}\n198.19.0.3 ssh-ed25519 ${b64("two")}\n`;
    const r = classifyHostKeys(
      known,
      nodes,
      2222,
      offered([
        ["pi1", [key("ssh-ed25519", "one")]],
        ["pi2", [key("ssh-ed25519", "two")]],
      ]),
    );
    expect(r.map((n) => n.status)).toEqual(["pinned", "new"]);
  });
});

describe("pinning", () => {
  const classified = classifyHostKeys(
    `198.19.0.2 ssh-ed25519 ${b64("one")}`,
    nodes,
    22,
    new Map([
      ["pi1", [key("ssh-ed25519", "one")]],
      ["pi2", [key("ssh-ed25519", "two"), key("ssh-rsa", "rsa2")]],
    ]),
  );

  it("writes every offered key of the new nodes only, in the form io's matcher reads back", () => {
    const lines = pinLines(classified, 22);
    expect(lines).toBe(`# pi2, pinned by pifleet bootstrap\n198.19.0.3 ssh-ed25519 ${b64("two")}\n198.19.0.3 ssh-rsa ${b64("rsa2")}\n`);
    const text = withPins(`198.19.0.2 ssh-ed25519 ${b64("one")}`, lines);
    expect(text.startsWith(`198.19.0.2 ssh-ed25519 ${b64("one")}\n# pi2`)).toBe(true);
    expect(knownKeysFor(text, "198.19.0.3").map((k) => k.key.toString())).toEqual(["two", "rsa2"]);
    expect(pinLines(classified, 2222)).toContain(`[198.19.0.3]:2222 ssh-ed25519 `);
  });

  it("changes nothing when no node is new", () => {
    const lines = pinLines(
      classified.filter((n) => n.status !== "new"),
      22,
    );
    expect(lines).toBe("");
    expect(withPins("x y z", lines)).toBe("x y z");
  });

  it("shows each new key's fingerprint for the person to compare", () => {
    expect(renderFingerprints(classified).split("\n")).toEqual([
      `  pi2  198.19.0.3  ssh-ed25519  ${fingerprint(Buffer.from("two"))}`,
      `  pi2  198.19.0.3  ssh-rsa  ${fingerprint(Buffer.from("rsa2"))}`,
    ]);
  });
});

describe("@revoked host keys", () => {
  it("a node offering a key known_hosts marks @revoked is refused with the file and line, and never pinned", () => {
    const text = `# withdrawn after pi1's SD card was lost\n@revoked * ssh-ed25519 ${b64("stolen")}\n`;
    const offered = new Map([
      ["pi1", [key("ssh-rsa", "fine"), key("ssh-ed25519", "stolen")]],
      ["pi2", [key("ssh-ed25519", "pi2-key")]],
    ]);
    const classified = classifyHostKeys(text, nodes, 22, offered);
    expect(classified.map((n) => n.status)).toEqual(["revoked", "new"]);
    expect(pinLines(classified, 22)).not.toContain(b64("stolen"));
    expect(pinLines(classified, 22)).not.toContain("198.19.0.2");
    expect(refusalMessage(classified, "/f/known_hosts", 22)).toBe(
      `/f/known_hosts:2: pi1 (198.19.0.2) offers ssh-ed25519 ${fingerprint(Buffer.from("stolen"))}, which this line marks @revoked: ` +
        "a revoked key is never trusted. Do not connect: check the Pi on its console, and if it still has that key, " +
        "give it new host keys (ssh-keygen -A after removing /etc/ssh/ssh_host_*) and rerun pifleet bootstrap.",
    );
  });

  it("a pinned key that is also @revoked no longer makes the node pinned", () => {
    const text = `198.19.0.2 ssh-ed25519 ${b64("old")}\n@revoked 198.19.0.2 ssh-ed25519 ${b64("old")}\n`;
    const [pi1] = classifyHostKeys(text, nodes.slice(0, 1), 22, new Map([["pi1", [key("ssh-ed25519", "old")]]]));
    expect(pi1?.status).toBe("revoked");
    expect(pi1?.revoked.map((r) => r.line)).toEqual([2]);
  });
});

describe("refusalMessage", () => {
  it("names the node, both fingerprints and the command that removes the old pin", () => {
    const changed: NodeHostKeys = {
      node: "pi3",
      address: "198.19.0.4",
      status: "changed",
      offered: [key("ssh-ed25519", "new")],
      pinned: [key("ssh-ed25519", "old")],
      revoked: [],
    };
    const text = refusalMessage([changed], "/f/known_hosts", 22);
    expect(text).toContain(`pi3 (198.19.0.4) offers ssh-ed25519 ${fingerprint(Buffer.from("new"))}`);
    expect(text).toContain(`pins ssh-ed25519 ${fingerprint(Buffer.from("old"))}`);
    expect(text).toContain("`ssh-keygen -R 198.19.0.4 -f /f/known_hosts`");
    expect(refusalMessage([{ ...changed, status: "pinned" }], "/f/known_hosts", 22)).toBe("");
  });
});
