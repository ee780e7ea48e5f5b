import { createHash } from "node:crypto";
import { createReadStream, existsSync } from "node:fs";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { APP_DIST_DIR, IMAGE_RECIPES_DIR, runtimeDependencyVersions, SERVICE_DIR, serviceVersion } from "@pifleet/counter-service/image";
import { EnvironmentError, OperationError } from "@pifleet/fleet";
import { processRunner, run } from "@pifleet/io";
import { emulationProblem, npmEnv, proxyBuildArgs } from "./build-env.js";
import {
  type ContextFile,
  DEBIAN_RECIPE,
  IMAGE_LABEL,
  type ImageArch,
  type ImageInputs,
  type ImageTags,
  imageTags,
  mirrorFromPrintUris,
  NODE_VERSION,
  nodePackage,
  runtimePackageJson,
  singleLayerArchive,
} from "./recipe.js";
import { type BuildReport, type PushedImage, pushedRef, STACK_KINDS, type StackKind } from "./refs.js";
import { pushImage, registryDigest } from "./registry.js";

export interface BuildResult {
  tags: ImageTags;
  /** Images built this time; the others were already there (same content hash). */
  built: string[];
}

/** `app build --push`: the build report, and what this run did to produce it. */
export interface PushResult extends BuildResult, BuildReport {
  /** Refs pushed this time; the others were in the registry already (same content hash). */
  pushed: string[];
}

export type Progress = (message: string) => void;

export interface BuildOptions {
  progress?: Progress;
  /** A Debian bookworm image to build on (pulled when the engine lacks it) instead of a debootstrapped one. */
  baseImage?: string;
}

async function exists(tag: string): Promise<boolean> {
  // Lists nothing for an absent image; a failure (no engine) is an error, not "absent".
  const listed = await run("docker", ["image", "ls", "--quiet", tag], { describe: `look for the image ${tag} in the Docker engine` });
  return listed.stdout.trim() !== "";
}

async function recipeFiles(dir: string): Promise<ContextFile[]> {
  const names = (await readdir(dir)).sort();
  return Promise.all(names.map(async (path) => ({ path, content: await readFile(join(dir, path)) })));
}

async function appFiles(): Promise<ContextFile[]> {
  const names = (await readdir(APP_DIST_DIR)).filter((n) => n.endsWith(".js")).sort();
  return [
    ...(await recipeFiles(join(IMAGE_RECIPES_DIR, "app"))),
    { path: "package.json", content: runtimePackageJson(serviceVersion(), runtimeDependencyVersions()) },
    ...(await Promise.all(names.map(async (n) => ({ path: `dist/app/${n}`, content: await readFile(join(APP_DIST_DIR, n)) })))),
  ];
}

async function writeContext(dir: string, files: ContextFile[]): Promise<void> {
  for (const f of files) {
    await mkdir(join(dir, f.path, ".."), { recursive: true });
    await writeFile(join(dir, f.path), f.content);
  }
}

async function dockerBuild(tag: string, kind: string, arch: ImageArch, context: string, buildArgs: Record<string, string>): Promise<void> {
  const args = ["build", "--platform", `linux/${arch}`, "--label", `${IMAGE_LABEL}=${kind}`, "-t", tag];
  for (const [k, v] of Object.entries({ ...buildArgs, ...proxyBuildArgs(process.env) })) args.push("--build-arg", `${k}=${v}`);
  await run("docker", [...args, context], { env: { ...process.env, DOCKER_BUILDKIT: "0" }, describe: `docker build of ${tag}` });
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

async function buildDebian(tag: string, arch: ImageArch, progress: Progress): Promise<void> {
  const apt = await run("apt-get", ["-q", "--print-uris", "download", "base-files"], {
    describe: "find this machine's Debian mirror (apt-get --print-uris download base-files)",
  }).catch((err: unknown) => {
    throw new EnvironmentError(
      `cannot find the Debian mirror debootstrap should use: ${err instanceof Error ? err.message : String(err)}`,
      "pifleet builds the Debian base from this machine's apt sources: run apt-get update, or scripts/setup.",
    );
  });
  const mirror = mirrorFromPrintUris(apt.stdout) ?? "http://deb.debian.org/debian";
  const work = await mkdtemp(join(tmpdir(), "pifleet-counter-rootfs-"));
  try {
    progress(`debootstrap ${DEBIAN_RECIPE.suite} ${DEBIAN_RECIPE.variant} (${arch}) from ${mirror}`);
    await run("debootstrap", [`--variant=${DEBIAN_RECIPE.variant}`, `--arch=${arch}`, DEBIAN_RECIPE.suite, join(work, "rootfs"), mirror]);
    progress(`loading ${tag}`);
    // The downloaded .debs and package lists are half the rootfs and useless in an image.
    const excludes = DEBIAN_RECIPE.exclude.map((pattern) => `--exclude=${pattern}`);
    await run("tar", ["-C", join(work, "rootfs"), "--numeric-owner", ...excludes, "-cf", join(work, "layer.tar"), "."]);
    const digest = await sha256File(join(work, "layer.tar"));
    for (const [name, text] of Object.entries(singleLayerArchive(tag, arch, digest, { [IMAGE_LABEL]: "debian" })))
      await writeFile(join(work, name), text);
    await processRunner.pipe(["tar", ["-C", work, "-cf", "-", "manifest.json", "config.json", "layer.tar"]], ["docker", ["load", "-q"]], {
      describe: `docker load of ${tag}`,
    });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function buildNodeBase(tags: ImageTags, arch: ImageArch, nodeVersion: string): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), "pifleet-counter-node-"));
  try {
    const tarball =
      (
        await run("npm", ["pack", nodePackage(arch, nodeVersion), "--pack-destination", work, "--silent"], { env: npmEnv(process.env) })
      ).stdout
        .trim()
        .split("\n")
        .pop() ?? "";
    await run("tar", ["-xzf", join(work, tarball), "-C", work, "package/bin/node"]);
    await cp(join(IMAGE_RECIPES_DIR, "node-base"), join(work, "context"), { recursive: true });
    await cp(join(work, "package/bin/node"), join(work, "context", "node"));
    await dockerBuild(tags.nodeBase, "node-base", arch, join(work, "context"), { DEBIAN_IMAGE: tags.debian });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function buildApp(tags: ImageTags, arch: ImageArch, files: ContextFile[]): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), "pifleet-counter-app-"));
  try {
    await writeContext(work, files);
    // Production dependencies are pure JavaScript: installed here once, valid for every architecture.
    await run("npm", ["install", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund", "--no-package-lock", "--silent"], {
      cwd: work,
      env: npmEnv(process.env),
    });
    // Outside a git checkout (exit 128) the image's revision label says so; any other git failure is an error.
    const git = await run("git", ["rev-parse", "--short", "HEAD"], { cwd: SERVICE_DIR, allowFailure: true });
    if (git.code !== 0 && git.code !== 128)
      throw new OperationError(`git rev-parse --short HEAD failed (exit ${git.code}): ${git.stderr.trim()}`);
    const revision = git.code === 0 ? git.stdout : "unknown";
    await dockerBuild(tags.app, "app", arch, work, {
      BASE_IMAGE: tags.nodeBase,
      VERSION: tags.app.split(":")[1] ?? "dev",
      REVISION: revision.trim(),
      CREATED: new Date().toISOString(),
    });
    // The legacy builder leaves the build stage behind as an untagged image carrying the base's label.
    await run("docker", ["image", "prune", "-f", "--filter", `label=${IMAGE_LABEL}=node-base`], {
      describe: "remove the app build's intermediate image",
    });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** What the tags hash: the compiled service (compiled here first), every recipe, the base. */
async function imageInputs(arch: ImageArch, options: BuildOptions): Promise<ImageInputs> {
  const { progress = () => {}, baseImage } = options;
  progress("compiling the counter service");
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  await run(process.execPath, [tsc, "-b", SERVICE_DIR], { describe: `tsc -b ${SERVICE_DIR}` });
  return {
    arch,
    ...(baseImage ? { baseImage } : {}),
    nodeVersion: NODE_VERSION,
    app: await appFiles(),
    loadBalancer: await recipeFiles(join(IMAGE_RECIPES_DIR, "lb")),
    nodeBase: await recipeFiles(join(IMAGE_RECIPES_DIR, "node-base")),
  };
}

/** The tags buildImages would build or reuse, without building anything (for `pifleet app plan`). */
export async function plannedImageTags(arch: ImageArch, options: BuildOptions = {}): Promise<ImageTags> {
  return imageTags(await imageInputs(arch, options));
}

/** Native builds need nothing; a foreign architecture needs qemu-user where the engine runs. */
async function checkEngine(arch: ImageArch): Promise<void> {
  const version = await run("docker", ["version", "--format", "{{.Server.Arch}}"], {
    describe: "ask the Docker engine for its architecture (docker version)",
  });
  const problem = emulationProblem(arch, version.stdout.trim(), {
    remote: Boolean(process.env.DOCKER_HOST),
    binfmt: (entry) => existsSync(`/proc/sys/fs/binfmt_misc/${entry}`),
  });
  if (problem) throw problem;
}

/** The base image on the engine: present, or pulled for the target's platform. */
async function ensureBase(ref: string, arch: ImageArch, progress: Progress): Promise<void> {
  const inspected = await run("docker", ["image", "inspect", "--format", "{{.Id}}", ref], { allowFailure: true });
  if (inspected.code === 0) return;
  if (!/no such image/i.test(inspected.stderr)) {
    throw new OperationError(`cannot look for the base image ${ref} in the Docker engine: ${inspected.stderr.trim()}`);
  }
  progress(`pulling the base image ${ref}`);
  await run("docker", ["pull", "--quiet", "--platform", `linux/${arch}`, ref], {
    describe: `docker pull ${ref}`,
  }).catch((err: unknown) => {
    throw new OperationError(
      `cannot pull the base image ${ref}: ${err instanceof Error ? err.message : String(err)}`,
      "Name a Debian bookworm image the Docker engine can pull (--base-image or PIFLEET_DEBIAN_IMAGE), or leave both unset to debootstrap one.",
    );
  });
}

/**
 * Makes the engine hold the images of `kinds` and what they are built from
 * (Debian → Node base → app; Debian → HAProxy), building only
 * the tags it lacks. Returns the tags built.
 */
async function ensureImages(arch: ImageArch, tags: ImageTags, inputs: ImageInputs, kinds: readonly StackKind[], progress: Progress) {
  const built: string[] = [];
  if (kinds.length === 0) return built;
  await checkEngine(arch);
  const ensure = async (tag: string, build: () => Promise<void>) => {
    if (await exists(tag)) return;
    progress(`building ${tag}`);
    await build();
    built.push(tag);
  };
  if (inputs.baseImage) await ensureBase(inputs.baseImage, arch, progress);
  else await ensure(tags.debian, () => buildDebian(tags.debian, arch, progress));
  if (kinds.includes("app")) {
    await ensure(tags.nodeBase, () => buildNodeBase(tags, arch, inputs.nodeVersion));
    await ensure(tags.app, () => buildApp(tags, arch, inputs.app));
  }
  if (kinds.includes("loadBalancer"))
    await ensure(tags.loadBalancer, () =>
      dockerBuild(tags.loadBalancer, "lb", arch, join(IMAGE_RECIPES_DIR, "lb"), { DEBIAN_IMAGE: tags.debian }),
    );
  return built;
}

/**
 * Builds (or finds, by content hash) the counter's three images and their
 * bases for one architecture in the Docker engine (DOCKER_HOST's, when set).
 */
export async function buildImages(arch: ImageArch, options: BuildOptions = {}): Promise<BuildResult> {
  const { progress = () => {} } = options;
  const inputs = await imageInputs(arch, options);
  const tags = imageTags(inputs);
  return { tags, built: await ensureImages(arch, tags, inputs, STACK_KINDS, progress) };
}

/**
 * `pifleet app build --push PREFIX`: the three images in the registry as
 * `PREFIX/<repository>:<hash>-<arch>`, pushed from the engine that built them.
 * A tag the registry holds already is content-addressed, so it is neither
 * built nor pushed again: every pipeline of an unchanged commit reports the
 * same digests, whichever node's engine runs the job.
 */
export async function buildAndPushImages(arch: ImageArch, prefix: string, options: BuildOptions = {}): Promise<PushResult> {
  const { progress = () => {} } = options;
  const inputs = await imageInputs(arch, options);
  const tags = imageTags(inputs);
  const refOf = (kind: StackKind) => pushedRef(prefix, tags[kind]);
  const images: Partial<Record<StackKind, PushedImage>> = {};
  for (const kind of STACK_KINDS) {
    const digest = await registryDigest(refOf(kind));
    if (digest) {
      progress(`${refOf(kind)} is in the registry already`);
      images[kind] = { ref: refOf(kind), digest };
    }
  }
  const missing = STACK_KINDS.filter((kind) => !images[kind]);
  const built = await ensureImages(arch, tags, inputs, missing, progress);
  const pushed: string[] = [];
  for (const kind of missing) {
    const ref = refOf(kind);
    progress(`pushing ${ref}`);
    images[kind] = { ref, digest: await pushImage(tags[kind], ref) };
    pushed.push(ref);
  }
  return { arch, images: images as Record<StackKind, PushedImage>, tags, built, pushed };
}
