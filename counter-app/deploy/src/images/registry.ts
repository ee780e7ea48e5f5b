import { OperationError } from "@pifleet/fleet";
import { run } from "@pifleet/io";
import type { StackImages } from "../deploy/stack.js";
import { manifestCommands, manifestLists, pinnedImages } from "./manifest.js";
import { type BuildReport, inspectedDigest, isMissingManifest, manifestPushDigest, pushDigest, type StackKind } from "./refs.js";

// `docker manifest` is experimental in Docker 20.10's CLI (Debian bookworm's); later CLIs ignore this.
const manifestEnv = () => ({ ...process.env, DOCKER_CLI_EXPERIMENTAL: "enabled" });

const registryHint = (ref: string) =>
  `Check that the registry in ${ref} answers (pifleet configure sets it up on the fleet's registry node) and that the prefix names it.`;

/**
 * The digest the registry holds under `ref`, or undefined when it has no such
 * tag. Asked with the CLI (`docker manifest inspect --insecure`), which speaks
 * to the registry itself with the CLI's credentials; a registry that cannot
 * be asked is an error, never "absent".
 */
export async function registryDigest(ref: string): Promise<string | undefined> {
  const r = await run("docker", ["manifest", "inspect", "--insecure", "--verbose", ref], {
    env: manifestEnv(),
    allowFailure: true,
    describe: `docker manifest inspect ${ref}`,
  });
  if (r.code !== 0) {
    if (isMissingManifest(r.stderr)) return undefined;
    throw new OperationError(`cannot ask the registry for ${ref} (exit ${r.code}): ${r.stderr.trim()}`, registryHint(ref));
  }
  return inspectedDigest(r.stdout);
}

/** Tags a local image as `ref`, pushes it from the local engine and returns the registry's digest. */
export async function pushImage(localTag: string, ref: string): Promise<string> {
  await run("docker", ["tag", localTag, ref], { describe: `docker tag ${localTag} ${ref}` });
  const pushed = await run("docker", ["push", ref], { describe: `docker push ${ref}` });
  const digest = pushDigest(pushed.stdout) ?? (await registryDigest(ref));
  if (!digest) throw new OperationError(`docker push ${ref} succeeded but the registry shows no digest for it`, registryHint(ref));
  return digest;
}

/**
 * `pifleet app manifest`: one multi-arch manifest list per image from the
 * build reports (one per architecture), pushed to the registry the builds
 * pushed to, and the images file that pins each list by its digest.
 */
export async function pushManifestLists(
  reports: readonly BuildReport[],
  progress: (message: string) => void = () => {},
): Promise<StackImages> {
  const pushed: Array<{ kind: StackKind; list: string; digest: string }> = [];
  for (const list of manifestLists(reports)) {
    const docker = manifestCommands(list);
    const env = manifestEnv();
    progress(`manifest list ${list.list} (${list.members.map((m) => m.arch).join(", ")})`);
    await run("docker", docker.remove, { env, allowFailure: true });
    await run("docker", docker.create, { env, describe: `docker manifest create ${list.list}` });
    for (const annotate of docker.annotate) await run("docker", annotate, { env, describe: `docker manifest annotate ${list.list}` });
    const out = await run("docker", docker.push, { env, describe: `docker manifest push ${list.list}` });
    const digest = manifestPushDigest(out.stdout);
    if (!digest)
      throw new OperationError(`docker manifest push ${list.list} printed no digest: ${out.stdout.trim()}`, registryHint(list.list));
    pushed.push({ kind: list.kind, list: list.list, digest });
  }
  return pinnedImages(pushed);
}
