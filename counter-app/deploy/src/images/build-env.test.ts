import { EnvironmentError } from "@pifleet/fleet";
import { describe, expect, it } from "vitest";
import { emulationProblem, npmEnv, proxyBuildArgs, qemuEntry } from "./build-env.js";

const PROXY = "http://198.18.0.1:3142";

describe("the build proxy", () => {
  it("becomes apt's http_proxy/https_proxy build args only when set and not empty", () => {
    expect(proxyBuildArgs({ PIFLEET_BUILD_PROXY: PROXY })).toEqual({ http_proxy: PROXY, https_proxy: PROXY });
    expect(proxyBuildArgs({ PIFLEET_BUILD_PROXY: "" })).toEqual({});
    expect(proxyBuildArgs({ PIFLEET_BUILD_PROXY: "  " })).toEqual({});
    expect(proxyBuildArgs({})).toEqual({});
  });

  it("is npm's proxy unless npm has proxy settings of its own", () => {
    expect(npmEnv({ PATH: "/bin", PIFLEET_BUILD_PROXY: PROXY })).toEqual({
      PATH: "/bin",
      PIFLEET_BUILD_PROXY: PROXY,
      npm_config_proxy: PROXY,
      npm_config_https_proxy: PROXY,
    });
    const own = { PIFLEET_BUILD_PROXY: PROXY, HTTPS_PROXY: "http://other:3128" };
    expect(npmEnv(own)).toBe(own);
    expect(npmEnv({ PIFLEET_BUILD_PROXY: PROXY, npm_config_https_proxy: "http://x" })).not.toHaveProperty("npm_config_proxy");
    const none = { PATH: "/bin" };
    expect(npmEnv(none)).toBe(none);
  });
});

describe("emulationProblem", () => {
  const noQemu = { remote: false, binfmt: () => false };

  it("needs no emulation for a native build: arm64 on an arm64 engine, amd64 on amd64", () => {
    expect(emulationProblem("arm64", "arm64", noQemu)).toBeUndefined();
    expect(emulationProblem("amd64", "amd64", noQemu)).toBeUndefined();
  });

  it("needs qemu-user's binfmt entry for a foreign architecture on this machine's engine", () => {
    const problem = emulationProblem("arm64", "amd64", noQemu);
    expect(problem).toBeInstanceOf(EnvironmentError);
    expect(problem?.message).toContain("binfmt_misc has no qemu-aarch64 entry");
    expect(emulationProblem("amd64", "arm64", noQemu)?.message).toContain("qemu-x86_64");
    expect(emulationProblem("arm64", "amd64", { remote: false, binfmt: (e) => e === qemuEntry("arm64") })).toBeUndefined();
  });

  it("leaves a remote engine's emulation to that engine (DOCKER_HOST: binfmt here says nothing about it)", () => {
    expect(emulationProblem("arm64", "amd64", { remote: true, binfmt: () => false })).toBeUndefined();
  });
});
