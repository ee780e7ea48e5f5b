import { OperationError } from "@pifleet/fleet";
import type { NodeShell, SshTarget } from "./ssh.js";

/** A local image (a tag in this machine's engine) and the registry reference it is pushed as. */
export interface ImageToPush {
  local: string;
  ref: string;
}

/** A pushed image: its reference and the digest the registry stored it under. */
export interface PushedImage {
  ref: string;
  digest: string;
  /** `ref@digest`: what a deploy names so that a tag replaced later changes nothing it runs. */
  pinned: string;
}

/** The `--format` of the node's image listing that tagsMissingFrom reads. */
const IMAGE_LIST_FORMAT = "{{.Repository}}:{{.Tag}}";

/** The tags a `docker image ls --format IMAGE_LIST_FORMAT` listing lacks, in the order wanted (pure). */
export function tagsMissingFrom(listing: string, wanted: readonly string[]): string[] {
  const present = new Set(listing.split("\n").map((l) => l.trim()));
  return [...new Set(wanted)].filter((t) => !present.has(t));
}

/** A reference without its tag (and digest): `host:5000/pifleet/counter:a1` → `host:5000/pifleet/counter`. */
function repositoryOf(ref: string): string {
  const noDigest = ref.split("@")[0] ?? ref;
  const colon = noDigest.lastIndexOf(":");
  return colon > noDigest.lastIndexOf("/") ? noDigest.slice(0, colon) : noDigest;
}

/**
 * The digest `ref`'s repository holds the image under, from `docker image inspect --format
 * '{{json .RepoDigests}}'` run after the push (pure). Undefined when the listing names none.
 */
export function pushedDigest(repoDigestsJson: string, ref: string): string | undefined {
  let listed: unknown;
  try {
    listed = JSON.parse(repoDigestsJson);
  } catch {
    return undefined;
  }
  const prefix = `${repositoryOf(ref)}@`;
  const entry = Array.isArray(listed) ? listed.find((d): d is string => typeof d === "string" && d.startsWith(prefix)) : undefined;
  const digest = entry?.slice(prefix.length);
  return digest && /^sha256:[0-9a-f]{64}$/.test(digest) ? digest : undefined;
}

/**
 * Puts images built on this machine into a registry through a node that can reach it (the
 * registry's own node): the ones the node's engine lacks travel as one `docker save | ssh node
 * docker load` (shared layers once; this machine's engine never talks to the cluster registry),
 * then the node tags and pushes each. A failed listing is an error, never "all missing".
 * Returns each image's registry digest, read from the node's engine after the push.
 */
export async function pushImagesThroughNode(
  shell: NodeShell,
  node: SshTarget,
  images: readonly ImageToPush[],
  progress: (message: string) => void = () => {},
): Promise<PushedImage[]> {
  const listed = await shell.run(node, ["docker", "image", "ls", "--format", IMAGE_LIST_FORMAT], {
    describe: "list the images in its Docker engine",
  });
  const missing = tagsMissingFrom(
    listed.stdout,
    images.map((i) => i.local),
  );
  if (missing.length > 0) {
    progress(`copying ${missing.join(", ")} to ${node.name}`);
    await shell.pipeTo(node, ["docker", ["save", ...missing]], ["docker", "load", "-q"], {
      describe: `docker load of ${missing.length} image(s) sent from this machine`,
    });
  }
  const pushed: PushedImage[] = [];
  for (const { local, ref } of images) {
    progress(`pushing ${ref}`);
    await shell.run(node, ["docker", "tag", local, ref], { describe: `tag ${local} as ${ref}` });
    await shell.run(node, ["docker", "push", "-q", ref], { describe: `push ${ref} to the registry` });
    const inspected = await shell.run(node, ["docker", "image", "inspect", "--format", "{{json .RepoDigests}}", ref], {
      describe: `read the digest of ${ref}`,
    });
    const digest = pushedDigest(inspected.stdout.trim(), ref);
    if (!digest) {
      throw new OperationError(
        `on ${node.name}: the engine names no registry digest for ${ref} after pushing it (RepoDigests: ${inspected.stdout.trim() || "empty"})`,
        "Check the registry with `docker push` on that node; a deploy needs the digest to pin the image.",
      );
    }
    pushed.push({ ref, digest, pinned: `${ref}@${digest}` });
  }
  return pushed;
}
