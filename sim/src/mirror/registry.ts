import { EnvironmentError, OperationError, type RegistryEndpoint } from "@pifleet/fleet";
import type { NodeShell } from "@pifleet/io";
import { docker } from "../sim-docker.js";
import { repositoryAndTag } from "./recipe.js";

export type ProgressFn = (message: string) => void;

const MANIFEST_TYPES = ["application/vnd.docker.distribution.manifest.v2+json", "application/vnd.oci.image.manifest.v1+json"];

function registryDown(registry: RegistryEndpoint, why: string): EnvironmentError {
  return new EnvironmentError(
    `the cluster registry at ${registry.host} (on ${registry.node.name}) does not answer: ${why}`,
    "The mirror pushes into the registry the fleet's `registry` role runs: converge it first (`pifleet configure`, with the sim's fleet file), and check that the node is running (`pifleet sim status`).",
  );
}

async function get(registry: RegistryEndpoint, path: string, accept?: string): Promise<Response> {
  try {
    return await fetch(`http://${registry.host}${path}`, {
      headers: accept ? { Accept: accept } : {},
      signal: AbortSignal.timeout(10_000),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    throw registryDown(registry, cause ?? (err instanceof Error ? err.message : String(err)));
  }
}

/** The registry's API root answers 200 (the sim's registry has no auth). */
export async function requireRegistry(registry: RegistryEndpoint): Promise<void> {
  const res = await get(registry, "/v2/");
  await res.body?.cancel();
  if (res.status !== 200) throw registryDown(registry, `GET /v2/ answered ${res.status}`);
}

/**
 * The image id a reference has in the registry (its manifest's config digest, which is the id
 * of the image that was pushed), or undefined when the registry has no such tag.
 */
export async function registryImageId(registry: RegistryEndpoint, ref: string): Promise<string | undefined> {
  const { repository, tag } = repositoryAndTag(ref, registry.host);
  const res = await get(registry, `/v2/${repository}/manifests/${tag}`, MANIFEST_TYPES.join(", "));
  if (res.status === 404) {
    await res.body?.cancel();
    return undefined;
  }
  if (res.status !== 200) throw new OperationError(`the registry at ${registry.host} answered ${res.status} for the manifest of ${ref}`);
  const manifest = (await res.json()) as { config?: { digest?: string } };
  return manifest.config?.digest;
}

/** Image ids of local tags, from this machine's engine. */
export async function localImageIds(tags: readonly string[]): Promise<string[]> {
  return (await docker(["image", "inspect", "--format", "{{.Id}}", ...tags])).split("\n").map((l) => l.trim());
}

/** The tags the node's engine lacks, from one image listing (a failed listing is an error, not "missing"). */
async function missingOnNode(shell: NodeShell, registry: RegistryEndpoint, tags: string[]): Promise<string[]> {
  const listed = await shell.run(registry.node, ["docker", "image", "ls", "--format", "{{.Repository}}:{{.Tag}}"], {
    describe: "list the images in its Docker engine",
  });
  const present = new Set(listed.stdout.split("\n").map((l) => l.trim()));
  return tags.filter((t) => !present.has(t));
}

/**
 * Puts local images into the registry under the given references: the ones the registry node's
 * engine lacks travel as one `docker save | ssh node docker load` (shared layers once; this
 * machine's engine never talks to the cluster registry), then the node tags and pushes them.
 */
export async function pushToRegistry(
  shell: NodeShell,
  registry: RegistryEndpoint,
  images: { local: string; ref: string }[],
  progress: ProgressFn,
): Promise<void> {
  const node = registry.node;
  const missing = await missingOnNode(
    shell,
    registry,
    images.map((i) => i.local),
  );
  if (missing.length > 0) {
    progress(`copying ${missing.join(", ")} to ${node.name}`);
    await shell.pipeTo(node, ["docker", ["save", ...missing]], ["docker", "load", "-q"], {
      describe: `docker load of ${missing.length} image(s) sent from this machine`,
    });
  }
  for (const { local, ref } of images) {
    progress(`pushing ${ref}`);
    await shell.run(node, ["docker", "tag", local, ref], { describe: `tag ${local} as ${ref}` });
    await shell.run(node, ["docker", "push", "-q", ref], { describe: `push ${ref} to the registry` });
  }
}
