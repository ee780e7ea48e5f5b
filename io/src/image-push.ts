import type { NodeShell, SshTarget } from "./ssh.js";

/** A local image (a tag in this machine's engine) and the registry reference it is pushed as. */
export interface ImageToPush {
  local: string;
  ref: string;
}

/** The `--format` of the node's image listing that tagsMissingFrom reads. */
const IMAGE_LIST_FORMAT = "{{.Repository}}:{{.Tag}}";

/** The tags a `docker image ls --format IMAGE_LIST_FORMAT` listing lacks, in the order wanted (pure). */
export function tagsMissingFrom(listing: string, wanted: readonly string[]): string[] {
  const present = new Set(listing.split("\n").map((l) => l.trim()));
  return [...new Set(wanted)].filter((t) => !present.has(t));
}

/**
 * Puts images built on this machine into a registry through a node that can reach it (the
 * registry's own node): the ones the node's engine lacks travel as one `docker save | ssh node
 * docker load` (shared layers once; this machine's engine never talks to the cluster registry),
 * then the node tags and pushes each. A failed listing is an error, never "all missing".
 */
export async function pushImagesThroughNode(
  shell: NodeShell,
  node: SshTarget,
  images: readonly ImageToPush[],
  progress: (message: string) => void = () => {},
): Promise<void> {
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
  for (const { local, ref } of images) {
    progress(`pushing ${ref}`);
    await shell.run(node, ["docker", "tag", local, ref], { describe: `tag ${local} as ${ref}` });
    await shell.run(node, ["docker", "push", "-q", ref], { describe: `push ${ref} to the registry` });
  }
}
