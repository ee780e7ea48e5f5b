import { EnvironmentError, OperationError, type RegistryEndpoint } from "@pifleet/fleet";
import { docker } from "../sim-docker.js";
import { repositoryAndTag } from "./recipe.js";

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
