import { describe, expect, it } from "vitest";
import { debianMirror, imageTags, readRecipe } from "./image-recipe.js";

const file = (path: string, text: string) => ({ path, content: Buffer.from(text) });

describe("imageTags", () => {
  it("names images by content: same recipe, same tag; any change, a new node tag", () => {
    const recipe = [file("Dockerfile", "FROM x"), file("rootfs/etc/pifleet-sim-pi", "Raspberry Pi 4")];
    const a = imageTags("amd64", recipe);
    expect(imageTags("amd64", recipe)).toEqual(a);
    const changed = imageTags("amd64", [recipe[0] ?? file("", ""), file("rootfs/etc/pifleet-sim-pi", "Raspberry Pi 5")]);
    expect(changed.node).not.toBe(a.node);
    expect(changed.base).toBe(a.base);
    expect(a.node).toMatch(/^pifleet\/sim-node:amd64-[0-9a-f]{12}$/);
  });
  it("gives each arch its own base and node images", () => {
    const recipe = [file("Dockerfile", "FROM x")];
    expect(imageTags("arm64", recipe).base).not.toBe(imageTags("amd64", recipe).base);
    expect(imageTags("arm64", recipe).node).toMatch(/^pifleet\/sim-node:arm64-/);
  });
  it("tells a renamed file from changed content", () => {
    expect(imageTags("amd64", [file("a", "bc")]).node).not.toBe(imageTags("amd64", [file("ab", "c")]).node);
  });
});

describe("readRecipe", () => {
  it("reads sim/image with the Dockerfile and the Pi files, sorted by path", async () => {
    const paths = (await readRecipe()).map((f) => f.path);
    expect(paths).toEqual([...paths].sort());
    expect(paths).toEqual(
      expect.arrayContaining([
        "Dockerfile",
        "rootfs/boot/firmware/cmdline.txt",
        "rootfs/boot/firmware/config.txt",
        "rootfs/etc/pifleet-sim-pi",
      ]),
    );
  });
});

describe("debianMirror", () => {
  it("reads deb822 and one-line sources, else falls back to deb.debian.org", () => {
    expect(debianMirror("Types: deb\nURIs: http://mirror.example/debian/\nSuites: bookworm")).toBe("http://mirror.example/debian");
    expect(debianMirror("deb [arch=amd64] http://ftp.example/debian bookworm main")).toBe("http://ftp.example/debian");
    expect(debianMirror("URIs: https://deb.nodesource.com/node_20.x")).toBe("http://deb.debian.org/debian");
  });
});
