import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import type { SimArch } from "./layout.js";

/** sim/image: the Dockerfile and the files it copies into the node. Same path from src/ and dist/. */
export const RECIPE_DIR = fileURLToPath(new URL("../image/", import.meta.url));

/** What debootstrap builds the base from; part of the base image's hash. */
export const BASE_RECIPE = { suite: "bookworm", variant: "minbase", include: [] as string[] };

export const IMAGE_LABEL = "pifleet.sim.image";

export interface RecipeFile {
  path: string;
  content: Buffer;
}

export async function readRecipe(dir = RECIPE_DIR): Promise<RecipeFile[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files = entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
  const out = await Promise.all(files.map(async (f) => ({ path: relative(dir, f), content: await readFile(f) })));
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

function hashOf(parts: (string | Buffer)[]): string {
  const h = createHash("sha256");
  for (const p of parts) {
    h.update(String(p.length));
    h.update(":");
    h.update(p);
  }
  return h.digest("hex").slice(0, 12);
}

export interface ImageTags {
  base: string;
  node: string;
}

/** Image tags named by content: a change to the recipe (or the base recipe) gives a new tag. Pure. */
export function imageTags(arch: SimArch, recipe: RecipeFile[]): ImageTags {
  const baseHash = hashOf([arch, JSON.stringify(BASE_RECIPE)]);
  const nodeHash = hashOf([baseHash, ...recipe.flatMap((f) => [f.path, f.content])]);
  return { base: `pifleet/sim-base:${arch}-${baseHash}`, node: `pifleet/sim-node:${arch}-${nodeHash}` };
}

/** The Debian mirror from the machine's apt sources (deb822 or one-line), else deb.debian.org. */
export function debianMirror(sources: string): string {
  for (const line of sources.split("\n")) {
    const deb822 = /^URIs:\s*(\S+)/.exec(line.trim());
    const oneLine = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+bookworm\s/.exec(line.trim());
    const uri = deb822?.[1] ?? oneLine?.[1];
    if (uri && /\/debian\/?$/.test(uri)) return uri.replace(/\/$/, "");
  }
  return "http://deb.debian.org/debian";
}
