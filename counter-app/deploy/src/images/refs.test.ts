import { InputError } from "@pifleet/fleet";
import { describe, expect, it } from "vitest";
import {
  digestOf,
  inspectedDigest,
  isMissingManifest,
  listRef,
  manifestPushDigest,
  parseBuildReport,
  parseImagesFile,
  pipelineImages,
  pushDigest,
  pushedRef,
  splitRef,
} from "./refs.js";

const D1 = `sha256:${"1".repeat(64)}`;
const D2 = `sha256:${"2".repeat(64)}`;
const PREFIX = "198.19.255.11:5000/pifleet";

const report = (arch: string, digest = D1) => ({
  arch,
  images: {
    app: { ref: `${PREFIX}/counter:aaa-${arch}`, digest },
    loadBalancer: { ref: `${PREFIX}/counter-lb:ccc-${arch}`, digest },
  },
  tags: {},
  built: [],
  pushed: [],
});

const inputError = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return (err as InputError).message;
  }
  throw new Error("expected an InputError");
};

describe("registry refs", () => {
  it("puts a local tag under the prefix with the hash first and the architecture last", () => {
    expect(pushedRef(PREFIX, "pifleet/counter:amd64-3f2a9c0d1e2b")).toBe(`${PREFIX}/counter:3f2a9c0d1e2b-amd64`);
    expect(pushedRef(`${PREFIX}/`, "pifleet/counter-lb:arm64-abc")).toBe(`${PREFIX}/counter-lb:abc-arm64`);
    expect(() => pushedRef(PREFIX, "pifleet/counter:amd64-broken-1")).toThrow(/not a tag/);
  });

  it("splits REPOSITORY:TAG where the repository has a registry port", () => {
    expect(splitRef(`${PREFIX}/counter:aaa-amd64`)).toEqual([`${PREFIX}/counter`, "aaa-amd64"]);
    expect(() => splitRef("198.19.255.11:5000/pifleet/counter")).toThrow(/not REPOSITORY:TAG/);
  });

  it("names a manifest list by the members' common hash, else by a hash of every tag, never by a member's own tag", () => {
    const amd = { ref: `${PREFIX}/counter:aaa-amd64`, arch: "amd64" as const };
    const arm = { ref: `${PREFIX}/counter:aaa-arm64`, arch: "arm64" as const };
    expect(listRef([amd, arm])).toBe(`${PREFIX}/counter:aaa`);
    expect(listRef([amd])).toBe(`${PREFIX}/counter:aaa`);
    const mixed = listRef([amd, { ref: `${PREFIX}/counter:bbb-arm64`, arch: "arm64" }]);
    expect(mixed).toMatch(/^198\.19\.255\.11:5000\/pifleet\/counter:[0-9a-f]{12}$/);
    expect(mixed).toBe(listRef([{ ref: `${PREFIX}/counter:bbb-arm64`, arch: "arm64" }, amd]));
    // A tag without the architecture suffix would be overwritten by its own list.
    expect(listRef([{ ref: `${PREFIX}/counter:v1`, arch: "amd64" }])).not.toBe(`${PREFIX}/counter:v1`);
    expect(inputError(() => listRef([amd, { ref: "other:5000/x/counter:aaa-arm64", arch: "arm64" }]))).toMatch(/different repositories/);
  });

  it("plans the lists a pipeline pushes for this checkout, by tag", () => {
    const tags = {
      debian: "x",
      nodeBase: "pifleet/counter-node:arm64-n",
      app: "pifleet/counter:arm64-aaa",
      loadBalancer: "pifleet/counter-lb:arm64-ccc",
    };
    expect(pipelineImages(PREFIX, tags, "arm64")).toEqual({
      app: `${PREFIX}/counter:aaa`,
      loadBalancer: `${PREFIX}/counter-lb:ccc`,
    });
  });
});

describe("digests from docker's output", () => {
  it("reads docker push's digest line", () => {
    const out = `The push refers to repository [${PREFIX}/counter]\n5f70bf18a086: Pushed\naaa-amd64: digest: ${D1} size: 1570\n`;
    expect(pushDigest(out)).toBe(D1);
    expect(pushDigest("aaa-amd64: Pushed")).toBeUndefined();
  });

  it("reads docker manifest push's digest, the last one printed", () => {
    expect(manifestPushDigest(`Pushed ref ${PREFIX}/counter@${D1} with digest: ${D1}\n${D2}\n`)).toBe(D2);
    expect(manifestPushDigest("")).toBeUndefined();
  });

  it("reads a single image's digest from docker manifest inspect -v, and no digest from a list", () => {
    const single = { Ref: `${PREFIX}/counter:aaa-amd64`, Descriptor: { mediaType: "x", digest: D1, size: 1 }, SchemaV2Manifest: {} };
    expect(inspectedDigest(JSON.stringify(single))).toBe(D1);
    expect(inspectedDigest(JSON.stringify([single]))).toBeUndefined();
  });

  it("tells a missing tag from a registry that cannot be asked", () => {
    expect(isMissingManifest(`no such manifest: ${PREFIX}/counter:aaa-amd64`)).toBe(true);
    expect(isMissingManifest("manifest unknown: manifest unknown")).toBe(true);
    expect(isMissingManifest("dial tcp 198.19.255.11:5000: connect: connection refused")).toBe(false);
  });
});

describe("build report", () => {
  it("keeps arch and images and ignores the build's own fields", () => {
    const parsed = parseBuildReport(JSON.stringify(report("arm64")), "build-arm64.json");
    expect(parsed).toEqual({ arch: "arm64", images: report("arm64").images });
  });

  it("lists every problem in one input error naming the file", () => {
    const bad = { arch: "riscv64", images: { app: { ref: "counter", digest: "sha256:12" } } };
    const message = inputError(() => parseBuildReport(JSON.stringify(bad), "build-x.json"));
    expect(message).toContain("build-x.json is not a build report");
    expect(message).toContain('arch is "riscv64"');
    expect(message).toContain('images.app.ref is "counter"');
    expect(message).toContain("images.app.digest is");
    expect(message).toContain("images.loadBalancer.ref is missing");
  });

  it("refuses what is not JSON, naming the file", () => {
    expect(inputError(() => parseBuildReport("building…", "build-amd64.json"))).toMatch(/^build-amd64\.json is not JSON/);
    expect(inputError(() => parseBuildReport("[]", "b.json"))).toMatch(/images is \[\], not an object/);
  });
});

describe("images file", () => {
  const good = {
    app: `${PREFIX}/counter:aaa@${D1}`,
    loadBalancer: `${PREFIX}/counter-lb:ccc@${D2}`,
  };

  it("reads the two refs pinned by digest", () => {
    expect(parseImagesFile(JSON.stringify(good), "images.json")).toEqual(good);
    expect(digestOf(good.loadBalancer)).toBe(D2);
    expect(digestOf(`${PREFIX}/counter:aaa`)).toBeUndefined();
  });

  it("refuses refs without a digest, missing and unknown keys, all in one message", () => {
    const bad = { app: `${PREFIX}/counter:aaa`, redis: `${PREFIX}/counter-redis:bbb@${D1}`, lb: good.loadBalancer };
    const message = inputError(() => parseImagesFile(JSON.stringify(bad), "images.json"));
    expect(message).toContain(`app is "${PREFIX}/counter:aaa", not REF@sha256:<64 hex>`);
    expect(message).toContain("loadBalancer is missing");
    // An images file from before Redis left the stack names it: refused, not silently ignored.
    expect(message).toContain("unknown keys redis, lb");
  });

  it("refuses a file that is not a JSON object", () => {
    expect(inputError(() => parseImagesFile("", "images.json"))).toMatch(/^images\.json is not JSON/);
    expect(inputError(() => parseImagesFile('["a"]', "images.json"))).toMatch(/is not an object/);
  });
});
