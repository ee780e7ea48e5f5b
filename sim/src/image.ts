import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { linesMatching, processRunner, run, withFileLock } from "@pifleet/io";
import { HOST_RUN_DIR } from "./host-services.js";
import { BASE_RECIPE, debianMirror, IMAGE_LABEL, imageTags, RECIPE_DIR, readRecipe } from "./image-recipe.js";
import type { SimArch } from "./layout.js";
import { docker } from "./sim-docker.js";

export type ProgressFn = (message: string) => void;

async function imageExists(tag: string): Promise<boolean> {
  return (await docker(["image", "ls", "-q", tag])) !== "";
}

/** The Debian mirror this machine's apt uses (nodes and the apt proxy fetch from the same one). */
export async function machineMirror(): Promise<string> {
  return debianMirror(await machineSources());
}

async function machineSources(): Promise<string> {
  const dir = "/etc/apt/sources.list.d";
  const names = await readdir(dir).catch(() => [] as string[]);
  const texts = await Promise.all(
    ["/etc/apt/sources.list", ...names.map((n) => join(dir, n))].map((f) => readFile(f, "utf8").catch(() => "")),
  );
  return texts.join("\n");
}

/** Mirror URL as seen through the apt proxy when one is given (apt-cacher-ng's /HOST/PATH form). */
function viaProxy(mirror: string, proxy: string | undefined): string {
  return proxy ? `${proxy}/${mirror.replace(/^https?:\/\//, "")}` : mirror;
}

async function buildBase(tag: string, arch: SimArch, hostProxy: string | undefined, progress: ProgressFn): Promise<void> {
  const mirror = await machineMirror();
  const work = await mkdtemp(join(tmpdir(), "pifleet-sim-rootfs-"));
  try {
    const rootfs = join(work, "rootfs");
    progress(`debootstrap ${BASE_RECIPE.suite} (${arch}) from ${mirror}${hostProxy ? " via the apt proxy" : ""}`);
    const args = [`--variant=${BASE_RECIPE.variant}`, `--arch=${arch}`, BASE_RECIPE.suite, rootfs, viaProxy(mirror, hostProxy)];
    await run("debootstrap", args, {
      onOutput: linesMatching(/^I: ((?:Installing|Unpacking|Configuring) (?:core|required|base) packages|Base system installed).*$/, (m) =>
        progress(`debootstrap (${arch}): ${m[1]}`),
      ),
    });
    progress(`importing ${tag}`);
    // Both sides must succeed: a failing tar fails the import instead of importing half a rootfs.
    await processRunner.pipe(
      ["tar", ["-C", rootfs, "--numeric-owner", "-c", "."]],
      ["docker", ["import", "-c", `LABEL ${IMAGE_LABEL}=base`, "-", tag]],
    );
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

const imageLock = (arch: SimArch) => join(HOST_RUN_DIR, `image-${arch}.lock`);

/** Makes sure the debootstrapped base exists (the sim's mirror builds its Debian from it), building it when missing. */
export async function ensureBaseImage(arch: SimArch, hostProxy: string | undefined, progress: ProgressFn): Promise<string> {
  const { base } = imageTags(arch, await readRecipe());
  if (await imageExists(base)) return base;
  return withFileLock(
    imageLock(arch),
    async () => {
      if (!(await imageExists(base))) await buildBase(base, arch, hostProxy, progress);
      return base;
    },
    { timeoutMs: 30 * 60_000 },
  );
}

/**
 * Makes sure the node image for this recipe exists, building it when missing: debootstrap →
 * `docker import` (base) → `docker build` of sim/image (node). Both are cached by content hash,
 * and a host-wide lock keeps concurrent sims from building the same image twice.
 * No --platform anywhere: this engine (20.10, not experimental) ignores it on import and the
 * legacy builder then refuses the mismatch, so arm64 images carry the host's architecture in
 * their metadata while their content is aarch64 (run through binfmt's qemu-aarch64). The arch
 * is in the tag instead.
 */
export async function ensureNodeImage(arch: SimArch, proxy: { host?: string; build?: string }, progress: ProgressFn): Promise<string> {
  const tags = imageTags(arch, await readRecipe());
  if (await imageExists(tags.node)) return tags.node;
  return withFileLock(
    imageLock(arch),
    async () => {
      if (await imageExists(tags.node)) return tags.node;
      if (!(await imageExists(tags.base))) await buildBase(tags.base, arch, proxy.host, progress);
      progress(`building ${tags.node}`);
      const args = ["build", "-t", tags.node, "--label", `${IMAGE_LABEL}=node`, "--build-arg", `BASE=${tags.base}`];
      await run("docker", [...args, "--build-arg", `APT_PROXY=${proxy.build ?? ""}`, RECIPE_DIR], {
        onOutput: linesMatching(/^(Step \d+\/\d+) : (.{0,60})/, (m) => progress(`building ${tags.node}: ${m[1]} ${m[2]}`)),
      });
      return tags.node;
    },
    { timeoutMs: 30 * 60_000 },
  );
}
