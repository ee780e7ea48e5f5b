import { createHash } from "node:crypto";
import { join } from "node:path";
import { EnvironmentError } from "@pifleet/fleet";
import { run, type SshSettings, type SshTarget, sshShell, withFileLock } from "@pifleet/io";
import { APT_PROXY_PORT, bridgeGateway, HOST_RUN_DIR } from "../host-services.js";
import type { ProgressFn } from "../image.js";
import { IMAGE_LABEL, imageTags, readRecipe } from "../image-recipe.js";
import type { SimArch } from "../layout.js";
import { docker } from "../sim-docker.js";

/**
 * The sim runner's helper image, its counterpart of gitlab-runner-helper: gitlab-ci-local copies the
 * checkout, artifacts and caches in and out of a job's volumes with it, and needs bash and rsync in it
 * (without rsync, artifacts silently go missing). Its default (firecow/gitlab-ci-local-util) cannot be
 * pulled here, so this one is built on this machine from the sim's own Debian base image, with rsync
 * from Debian through the host's apt proxy, and loaded into each runner node's Docker engine.
 */

export const HELPER_DOCKERFILE = `# The sim runner's helper image: bash (in the base) and rsync, for gitlab-ci-local.
ARG BASE
FROM \${BASE}
ARG APT_PROXY=
# The base's sources name the mirror through the host's loopback proxy (debootstrap's view): the
# mirror itself is asked for, through APT_PROXY.
RUN set -eux; \\
    if [ -n "$APT_PROXY" ]; then echo "Acquire::http::Proxy \\"$APT_PROXY\\";" > /etc/apt/apt.conf.d/00pifleet-build-proxy; fi; \\
    sed -i 's#http://127\\.0\\.0\\.1:[0-9]*/#http://#' /etc/apt/sources.list; \\
    apt-get update; \\
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends rsync; \\
    rm -f /etc/apt/apt.conf.d/00pifleet-build-proxy; \\
    apt-get clean; \\
    rm -rf /var/lib/apt/lists/*
`;

/** Named by content: the base image's tag and the recipe above. Pure. */
export function helperImageTag(arch: SimArch, baseTag: string): string {
  const hash = createHash("sha256").update(baseTag).update("\0").update(HELPER_DOCKERFILE).digest("hex").slice(0, 12);
  return `pifleet/sim-helper:${arch}-${hash}`;
}

const imageExists = async (tag: string) => (await docker(["image", "ls", "-q", tag])) !== "";

/** Builds the helper image on this machine unless it is there already (a host-wide lock keeps concurrent builds apart). */
export async function buildHelperImage(arch: SimArch = "amd64", progress: ProgressFn = () => {}): Promise<string> {
  const base = imageTags(arch, await readRecipe()).base;
  const tag = helperImageTag(arch, base);
  if (await imageExists(tag)) return tag;
  return withFileLock(
    join(HOST_RUN_DIR, `helper-image-${arch}.lock`),
    async () => {
      if (await imageExists(tag)) return tag;
      if (!(await imageExists(base)))
        throw new EnvironmentError(
          `the sim's base image ${base} is missing, and the runner's helper image is built on it`,
          `Run \`pifleet sim up --arch ${arch}\` (it builds the base image), then try again.`,
        );
      progress(`building ${tag} (rsync on ${base})`);
      const proxy = `http://${await bridgeGateway()}:${APT_PROXY_PORT}`;
      await run(
        "docker",
        ["build", "-t", tag, "--label", `${IMAGE_LABEL}=helper`, "--build-arg", `BASE=${base}`, "--build-arg", `APT_PROXY=${proxy}`, "-"],
        { input: HELPER_DOCKERFILE, describe: `docker build of ${tag}` },
      );
      return tag;
    },
    { timeoutMs: 15 * 60_000 },
  );
}

/**
 * Makes the helper image present in a node's Docker engine: built here when missing, then
 * `docker save | ssh node docker load` unless the node has it. Returns its tag (runJob's helperImage).
 */
export async function ensureHelperImage(
  node: SshTarget,
  ssh: Omit<SshSettings, "port"> & { port?: number },
  options: { arch?: SimArch; progress?: ProgressFn } = {},
): Promise<string> {
  const tag = await buildHelperImage(options.arch, options.progress);
  const shell = sshShell({ ...ssh, port: ssh.port ?? 22 });
  try {
    const present = await shell.run(node, ["docker", "image", "inspect", "--format", "{{.Id}}", tag], {
      allowFailure: true,
      describe: "look for the runner's helper image",
    });
    if (present.code !== 0) {
      options.progress?.(`loading ${tag} into ${node.name}'s Docker engine`);
      await shell.pipeTo(node, ["docker", ["save", tag]], ["docker", "load", "-q"], {
        describe: `docker load of ${tag} sent from this machine`,
      });
    }
    return tag;
  } finally {
    await shell.close();
  }
}
