import { describe, expect, it } from "vitest";
import { aptCacherArgs, aptProxyAction, NPM_PASSTHROUGH_PATTERN } from "./host-services.js";

describe("apt-cacher-ng's configuration", () => {
  const args = aptCacherArgs("http://deb.debian.org/debian", "198.18.0.1");

  it("listens on loopback and the bridge gateway and uses this machine's Debian mirror", () => {
    expect(args).toContain("BindAddress=127.0.0.1 198.18.0.1");
    expect(args).toContain("Remap-debrep=file:deb_mirror*.gz /debian ; http://deb.debian.org/debian/");
  });

  it("tunnels HTTPS to npm's registry and to no other host or port", () => {
    expect(args.filter((a) => a.startsWith("PassThroughPattern="))).toEqual([`PassThroughPattern=${NPM_PASSTHROUGH_PATTERN}`]);
    // apt-cacher-ng matches CONNECT's host:port with a POSIX extended regex; this one means the same in JavaScript.
    const pattern = new RegExp(NPM_PASSTHROUGH_PATTERN, "i");
    expect(pattern.test("registry.npmjs.org:443")).toBe(true);
    for (const other of [
      "registry.npmjs.org:80",
      "registry.npmjs.org:4430",
      "registry.npmjs.org.example.com:443",
      "evilregistry.npmjs.org:443",
      "registryXnpmjs.org:443",
      "bugs.debian.org:443",
      "198.18.0.1:443",
    ])
      expect(pattern.test(other), other).toBe(false);
  });
});

describe("what ensureAptProxy does with a running apt-cacher-ng", () => {
  const desired = ["-c", "/etc/apt-cacher-ng", "PassThroughPattern=x"];

  it("starts one when none answers and none of ours runs", () => {
    expect(aptProxyAction(false, undefined, desired)).toBe("start");
  });

  it("uses ours when it runs with this configuration", () => {
    expect(aptProxyAction(true, [...desired], desired)).toBe("use");
  });

  it("restarts ours when it was started with another configuration (an older pifleet's)", () => {
    expect(aptProxyAction(true, ["-c", "/etc/apt-cacher-ng"], desired)).toBe("restart");
    expect(aptProxyAction(true, ["-c", "/etc/apt-cacher-ng", "PassThroughPattern=y"], desired)).toBe("restart");
  });

  it("restarts ours when it runs but does not answer on both addresses", () => {
    expect(aptProxyAction(false, [...desired], desired)).toBe("restart");
  });

  it("uses one it did not start as it is, never touching it", () => {
    expect(aptProxyAction(true, undefined, desired)).toBe("use");
  });
});
