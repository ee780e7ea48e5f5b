import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { linesMatching, processRunner, run, withFileLock } from "@pifleet/io";
import { HOST_RUN_DIR } from "../host-services.js";
import { docker } from "../sim-docker.js";
import {
  type CaCertificate,
  DEBIAN_IMPORT_CHANGES,
  debianScript,
  dockerDockerfile,
  MIRROR_IMAGE_LABEL,
  type MirrorInputs,
  type MirrorTags,
  mirrorTags,
  nodeDockerfile,
  nodePackages,
} from "./recipe.js";

export type ProgressFn = (message: string) => void;

export interface MirrorBuild {
  tags: MirrorTags;
  /** Tags built this time; the others were already in this machine's engine. */
  built: string[];
}

async function imageExists(tag: string): Promise<boolean> {
  return (await docker(["image", "ls", "-q", tag])) !== "";
}

/** Where Debian's update-ca-certificates takes a machine's own CAs from. */
const LOCAL_CA_DIR = "/usr/local/share/ca-certificates";

/** The CA certificates this machine trusts locally (public certificates, no keys); none when the directory is absent. */
export async function localCaCertificates(): Promise<CaCertificate[]> {
  const entries = await readdir(LOCAL_CA_DIR, { recursive: true, withFileTypes: true }).catch(() => []);
  const files = entries.filter((e) => e.isFile() && e.name.endsWith(".crt")).map((e) => join(e.parentPath, e.name));
  const cas = await Promise.all(files.map(async (f) => ({ name: f.slice(LOCAL_CA_DIR.length + 1), pem: await readFile(f, "utf8") })));
  return cas.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The sim base with debianScript applied, exported and imported as one layer (so what it deletes is really gone). */
async function buildDebian(tag: string, inputs: MirrorInputs): Promise<void> {
  const container = `pifleet-sim-mirror-debian-${process.pid}`;
  try {
    await docker(["run", "-i", "--name", container, "--network", "none", inputs.baseImage, "sh", "-s"], {
      input: debianScript(inputs.debianMirror, inputs.caCertificates),
      describe: `prepare the Debian stand-in in a container of ${inputs.baseImage}`,
    });
    const changes = DEBIAN_IMPORT_CHANGES.flatMap((c) => ["-c", c]);
    await processRunner.pipe(["docker", ["export", container]], ["docker", ["import", ...changes, "-", tag]], {
      describe: `docker export | docker import of ${tag}`,
    });
  } finally {
    await docker(["rm", "-f", container], { allowFailure: true });
  }
}

/** The legacy builder (the engine is 20.10): the recipe's Dockerfile in a context dir, apt through the proxy. */
async function dockerBuild(tag: string, kind: string, context: string, buildArgs: Record<string, string>, progress: ProgressFn) {
  const args = ["build", "--label", `${MIRROR_IMAGE_LABEL}=mirror-${kind}`, "-t", tag];
  for (const [k, v] of Object.entries(buildArgs)) args.push("--build-arg", `${k}=${v}`);
  await run("docker", [...args, context], {
    env: { ...process.env, DOCKER_BUILDKIT: "0" },
    describe: `docker build of ${tag}`,
    onOutput: linesMatching(/^(Step \d+\/\d+) : (.{0,60})/, (m) => progress(`building ${tag}: ${m[1]} ${m[2]}`)),
  });
}

/** Fetches an npm package's tarball (npm's cache answers a second time) and unpacks it into dir. */
async function unpackNpmPackage(spec: string, work: string, dir: string): Promise<void> {
  const packed = await run("npm", ["pack", spec, "--pack-destination", work, "--silent"], { cwd: work, describe: `npm pack ${spec}` });
  const tarball = packed.stdout.trim().split("\n").pop() ?? "";
  await mkdir(dir, { recursive: true });
  await run("tar", ["-xzf", join(work, tarball), "-C", dir, "--strip-components=1"], { describe: `unpack ${tarball}` });
}

async function buildNode(tags: MirrorTags, proxy: string, progress: ProgressFn): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), "pifleet-sim-mirror-node-"));
  try {
    const context = join(work, "context");
    const packages = nodePackages();
    await unpackNpmPackage(packages.node, work, join(work, "node"));
    await unpackNpmPackage(packages.npm, work, join(context, "npm"));
    await run("cp", [join(work, "node", "bin", "node"), join(context, "node")]);
    await writeFile(join(context, "Dockerfile"), nodeDockerfile());
    await dockerBuild(tags.node, "node", context, { DEBIAN_IMAGE: tags.debian, http_proxy: proxy }, progress);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function buildDocker(tags: MirrorTags, proxy: string, progress: ProgressFn): Promise<void> {
  const context = await mkdtemp(join(tmpdir(), "pifleet-sim-mirror-docker-"));
  try {
    await writeFile(join(context, "Dockerfile"), dockerDockerfile());
    await dockerBuild(tags.docker, "docker", context, { DEBIAN_IMAGE: tags.debian, http_proxy: proxy }, progress);
  } finally {
    await rm(context, { recursive: true, force: true });
  }
}

/**
 * Builds the three stand-ins in this machine's engine, or finds them by content hash. `proxy`
 * is the apt proxy as containers reach it (build steps' apt goes through it, and it is not part
 * of any image). A host-wide lock keeps two sims from building the same images at once.
 */
export async function buildMirrorImages(inputs: MirrorInputs, proxy: string, progress: ProgressFn): Promise<MirrorBuild> {
  const tags = mirrorTags(inputs);
  const steps: [string, () => Promise<void>][] = [
    [tags.debian, () => buildDebian(tags.debian, inputs)],
    [tags.node, () => buildNode(tags, proxy, progress)],
    [tags.docker, () => buildDocker(tags, proxy, progress)],
  ];
  const built: string[] = [];
  await withFileLock(
    join(HOST_RUN_DIR, "mirror-images.lock"),
    async () => {
      for (const [tag, build] of steps) {
        if (await imageExists(tag)) continue;
        progress(`building ${tag}`);
        await build();
        built.push(tag);
      }
    },
    { timeoutMs: 30 * 60_000 },
  );
  return { tags, built };
}
