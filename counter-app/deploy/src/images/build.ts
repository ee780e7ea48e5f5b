import { createHash } from "node:crypto";
import { createReadStream, existsSync } from "node:fs";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { APP_DIST_DIR, IMAGE_RECIPES_DIR, runtimeDependencyVersions, SERVICE_DIR, serviceVersion } from "@pifleet/counter-service/image";
import { EnvironmentError, OperationError } from "@pifleet/fleet";
import { processRunner, run } from "@pifleet/io";
import {
  type ContextFile,
  DEBIAN_RECIPE,
  IMAGE_LABEL,
  type ImageArch,
  type ImageInputs,
  type ImageTags,
  imageTags,
  mirrorFromPrintUris,
  nodePackage,
  runtimePackageJson,
  singleLayerArchive,
} from "./recipe.js";

export interface BuildResult {
  tags: ImageTags;
  /** Images built this time; the others were already there (same content hash). */
  built: string[];
}

export type Progress = (message: string) => void;

async function exists(tag: string): Promise<boolean> {
  // Lists nothing for an absent image; a failure (no engine) is an error, not "absent".
  const listed = await run("docker", ["image", "ls", "--quiet", tag], { describe: `look for the image ${tag} in the local Docker engine` });
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
  for (const [k, v] of Object.entries(buildArgs)) args.push("--build-arg", `${k}=${v}`);
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
      (await run("npm", ["pack", nodePackage(arch, nodeVersion), "--pack-destination", work, "--silent"])).stdout
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

/** What the tags hash: the compiled service (compiled here first) and every recipe. */
async function imageInputs(arch: ImageArch, nodeVersion: string, progress: Progress): Promise<ImageInputs> {
  progress("compiling the counter service");
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  await run(process.execPath, [tsc, "-b", SERVICE_DIR], { describe: `tsc -b ${SERVICE_DIR}` });
  return {
    arch,
    nodeVersion,
    app: await appFiles(),
    redis: await recipeFiles(join(IMAGE_RECIPES_DIR, "redis")),
    loadBalancer: await recipeFiles(join(IMAGE_RECIPES_DIR, "lb")),
    nodeBase: await recipeFiles(join(IMAGE_RECIPES_DIR, "node-base")),
  };
}

/** The tags buildImages would build or reuse, without building anything (for `pifleet app plan`). */
export async function plannedImageTags(
  arch: ImageArch,
  progress: Progress = () => {},
  nodeVersion = process.versions.node,
): Promise<ImageTags> {
  return imageTags(await imageInputs(arch, nodeVersion, progress));
}

/**
 * Builds (or finds, by content hash) the counter's three images and their
 * bases for one architecture: Debian → Node base → app; Debian → Redis; Debian → HAProxy.
 */
export async function buildImages(
  arch: ImageArch,
  progress: Progress = () => {},
  nodeVersion = process.versions.node,
): Promise<BuildResult> {
  if (arch === "arm64" && !existsSync("/proc/sys/fs/binfmt_misc/qemu-aarch64")) {
    throw new EnvironmentError(
      "arm64 images need qemu-user emulation, but binfmt_misc has no qemu-aarch64 entry",
      "Run scripts/setup (installs qemu-user-static and binfmt-support).",
    );
  }
  const inputs = await imageInputs(arch, nodeVersion, progress);
  const tags = imageTags(inputs);
  const built: string[] = [];
  const apt = process.env.PIFLEET_APT_PROXY ?? "";
  const ensure = async (tag: string, build: () => Promise<void>) => {
    if (await exists(tag)) return;
    progress(`building ${tag}`);
    await build();
    built.push(tag);
  };
  await ensure(tags.debian, () => buildDebian(tags.debian, arch, progress));
  await ensure(tags.nodeBase, () => buildNodeBase(tags, arch, nodeVersion));
  await ensure(tags.app, () => buildApp(tags, arch, inputs.app));
  await ensure(tags.redis, () =>
    dockerBuild(tags.redis, "redis", arch, join(IMAGE_RECIPES_DIR, "redis"), { DEBIAN_IMAGE: tags.debian, APT_PROXY: apt }),
  );
  await ensure(tags.loadBalancer, () =>
    dockerBuild(tags.loadBalancer, "lb", arch, join(IMAGE_RECIPES_DIR, "lb"), { DEBIAN_IMAGE: tags.debian, APT_PROXY: apt }),
  );
  return { tags, built };
}
