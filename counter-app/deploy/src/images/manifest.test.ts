import { InputError } from "@pifleet/fleet";
import { describe, expect, it } from "vitest";
import { manifestCommands, manifestLists, pinnedImages } from "./manifest.js";
import type { BuildReport } from "./refs.js";

const PREFIX = "198.19.255.11:5000/pifleet";
const digest = (n: number) => `sha256:${String(n).repeat(64)}`;

function report(arch: "amd64" | "arm64", n: number): BuildReport {
  return {
    arch,
    images: {
      app: { ref: `${PREFIX}/counter:aaa-${arch}`, digest: digest(n) },
      loadBalancer: { ref: `${PREFIX}/counter-lb:ccc-${arch}`, digest: digest(n + 2) },
    },
  };
}

describe("manifestLists", () => {
  it("makes one list per image from every architecture, members pinned and sorted by architecture", () => {
    const lists = manifestLists([report("arm64", 4), report("amd64", 1)]);
    expect(lists.map((l) => [l.kind, l.list])).toEqual([
      ["app", `${PREFIX}/counter:aaa`],
      ["loadBalancer", `${PREFIX}/counter-lb:ccc`],
    ]);
    expect(lists[0]?.members).toEqual([
      { arch: "amd64", ref: `${PREFIX}/counter:aaa-amd64@${digest(1)}` },
      { arch: "arm64", ref: `${PREFIX}/counter:aaa-arm64@${digest(4)}` },
    ]);
  });

  it("still makes a list from one architecture", () => {
    const [app] = manifestLists([report("amd64", 1)]);
    expect(app).toEqual({
      kind: "app",
      list: `${PREFIX}/counter:aaa`,
      members: [{ arch: "amd64", ref: `${PREFIX}/counter:aaa-amd64@${digest(1)}` }],
    });
  });

  it("refuses two reports of one architecture, and none", () => {
    expect(() => manifestLists([report("amd64", 1), report("amd64", 4)])).toThrow(InputError);
    expect(() => manifestLists([report("amd64", 1), report("amd64", 4)])).toThrow(/two build reports for amd64/);
    expect(() => manifestLists([])).toThrow(/no build reports/);
  });
});

describe("manifestCommands", () => {
  it("drops a stale local list, creates from the pinned members, annotates each platform, pushes and purges", () => {
    const [app] = manifestLists([report("amd64", 1), report("arm64", 4)]);
    if (!app) throw new Error("no list");
    const amd = `${PREFIX}/counter:aaa-amd64@${digest(1)}`;
    const arm = `${PREFIX}/counter:aaa-arm64@${digest(4)}`;
    expect(manifestCommands(app)).toEqual({
      remove: ["manifest", "rm", `${PREFIX}/counter:aaa`],
      create: ["manifest", "create", "--insecure", `${PREFIX}/counter:aaa`, amd, arm],
      annotate: [
        ["manifest", "annotate", "--os", "linux", "--arch", "amd64", `${PREFIX}/counter:aaa`, amd],
        ["manifest", "annotate", "--os", "linux", "--arch", "arm64", `${PREFIX}/counter:aaa`, arm],
      ],
      push: ["manifest", "push", "--insecure", "--purge", `${PREFIX}/counter:aaa`],
    });
  });
});

describe("pinnedImages", () => {
  it("pins each list by the digest its push printed", () => {
    expect(
      pinnedImages([
        { kind: "loadBalancer", list: `${PREFIX}/counter-lb:ccc`, digest: digest(3) },
        { kind: "app", list: `${PREFIX}/counter:aaa`, digest: digest(1) },
      ]),
    ).toEqual({
      app: `${PREFIX}/counter:aaa@${digest(1)}`,
      loadBalancer: `${PREFIX}/counter-lb:ccc@${digest(3)}`,
    });
  });
});
