import { resolve } from "node:path";
import { InputError, loadFleetFile } from "@pifleet/fleet";
import { pushImagesThroughNode, sshShell } from "@pifleet/io";
import { ensureAptProxy, withHostLock } from "../host-services.js";
import { ensureBaseImage, machineMirror } from "../image.js";
import { simStatus } from "../status.js";
import { DEFAULT_SIM_DIR } from "../up.js";
import { buildMirrorImages, localCaCertificates, type ProgressFn } from "./build.js";
import { MIRROR_ARCH, MIRROR_IMAGES, type MirrorRefs, mirrorRef, mirrorRefs } from "./recipe.js";
import { localImageIds, registryImageId, requireRegistry } from "./registry.js";

export interface SimMirrorOptions {
  /** The sim whose cluster registry receives the images (default .pifleet/sim). */
  dir?: string;
  progress?: ProgressFn;
}

export interface SimMirrorResult {
  /** The cluster registry, "address:port". */
  registry: string;
  /** Pipeline variable → the stand-in's reference in the registry. */
  images: MirrorRefs;
  /** References pushed this time; the registry already held the others, built from the same recipe. */
  pushed: string[];
  /** Local images built this time (content-hash tags); the others were cached in this machine's engine. */
  built: string[];
  /** The apt proxy as containers on the nodes reach it: apt over http_proxy, npm over https_proxy (CONNECT to registry.npmjs.org only). */
  proxy: string;
}

/**
 * `pifleet sim mirror`: the public images the pipeline names (debian:bookworm-slim,
 * node:24-bookworm, docker:27-cli) as stand-ins built on this machine from Debian and npm
 * packages, pushed into the sim's cluster registry under `<registry>/mirror/…`. Idempotent:
 * nothing is rebuilt while the recipe is unchanged, and a reference the registry already holds
 * with the same image is not pushed again. The registry must be converged already.
 */
export async function simMirror(options: SimMirrorOptions = {}): Promise<SimMirrorResult> {
  const progress = options.progress ?? (() => {});
  const sim = await simStatus(resolve(options.dir ?? DEFAULT_SIM_DIR));
  if (sim.arch !== MIRROR_ARCH) {
    throw new InputError(
      `the sim in ${sim.dir} is ${sim.arch}; the mirror serves only amd64 sims`,
      "arm64 sim nodes run no Docker engine, so no docker-executor job runs there: bring up an amd64 sim (`pifleet sim up --arch amd64`).",
    );
  }
  // The sim's own key, whatever PIFLEET_SSH_KEY says in this shell.
  const { fleet, topology } = await loadFleetFile(sim.fleetFile, {});
  const { registry } = topology;
  await requireRegistry(registry);

  const debianMirror = await machineMirror();
  const proxy = await withHostLock(() => ensureAptProxy(debianMirror, progress));
  const base = await ensureBaseImage(MIRROR_ARCH, proxy.host, progress);
  const inputs = { baseImage: base, debianMirror, caCertificates: await localCaCertificates() };
  const { tags, built } = await buildMirrorImages(inputs, proxy.nodes, progress);

  const wanted = MIRROR_IMAGES.map((image) => ({ local: tags[image.kind], ref: mirrorRef(registry.host, image) }));
  const ids = await localImageIds(wanted.map((w) => w.local));
  const inRegistry = await Promise.all(wanted.map((w) => registryImageId(registry, w.ref)));
  const stale = wanted.filter((_, i) => inRegistry[i] !== ids[i]);
  if (stale.length > 0) {
    const shell = sshShell(fleet.ssh);
    try {
      await pushImagesThroughNode(shell, registry.node, stale, progress);
    } finally {
      await shell.close();
    }
  }
  return { registry: registry.host, images: mirrorRefs(registry.host), pushed: stale.map((s) => s.ref), built, proxy: proxy.nodes };
}
